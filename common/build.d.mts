export declare const SOURCE_DIRS: string[];
/** The package root (the folder holding package.json) above a module URL, in sources and in dist alike. */
export declare function packageRoot(fromUrl?: string): string;
export declare function sourceFiles(root?: string): string[];
export declare function fingerprint(root?: string): string;
export declare function currentBuild(root?: string): { root: string; dir: string; fresh: boolean };
/** The compiled file of a source module (relative to the root) when the build is fresh, else the source itself. */
export declare function runnableModule(rel: string, root?: string): string;
/**
 * The file to start for a `program` bundle of common/build.mjs BUNDLES (e.g. `k6-cli`): the single-file bundle when
 * it is fresh, else runnableModule of its entry. A `.cjs` file is CommonJS (require it), `.ts` needs tsx.
 */
export declare function runnableProgram(name: 'k6-cli', root?: string): string;
/** k6 script templates (TypeScript run by k6): the build writes each as a k6 script, k6TemplateScript(rel) in dist/<fp>/. */
export declare const K6_TEMPLATES: string[];
/** The esbuild transform options of a k6 template, at build time and (stale build) at run time alike. */
export declare const K6_TEMPLATE_TRANSFORM: { loader: 'ts'; format: 'esm'; target: string };
export declare function k6TemplateScript(rel: string): string;
/** Marks the builds (dist/<fp>, dist/bundles/<name>/<fp>) holding these files as in use while this process runs. */
export declare function holdBuilds(files: readonly string[], root?: string): void;
export declare function build(root?: string): Promise<{ root: string; dir: string; fresh: boolean }>;
/**
 * Vendored packages (`#<name>` in package.json's imports → dist/vendor/<name>.mjs), by name: the packages bundled
 * from the entry vendor/<name>.d.ts (also the types of `#<name>`).
 */
export declare const VENDOR: Record<string, string[]>;
/** True when every vendored bundle (or those named) exists and was built from the packages installed now. */
export declare function vendorFresh(root?: string, names?: string[]): boolean;
/** Builds the vendored bundles (or those named) that are missing or stale. */
export declare function buildVendor(root?: string, names?: string[]): Promise<void>;
