// papaparse ships no types (and @types/papaparse is not a dependency): the shim only re-exports the library.
declare module 'papaparse/papaparse.min.js' {
  const Papa: {
    parse(input: string, config?: Record<string, unknown>): { data: unknown[]; errors: unknown[]; meta: Record<string, unknown> };
    unparse(data: unknown, config?: Record<string, unknown>): string;
  };
  export default Papa;
}
