export declare const SOURCE_DIRS: string[];
/** The package root (the folder holding package.json) above a module URL, in sources and in dist alike. */
export declare function packageRoot(fromUrl?: string): string;
export declare function sourceFiles(root?: string): string[];
export declare function fingerprint(root?: string): string;
export declare function currentBuild(root?: string): { root: string; dir: string; fresh: boolean };
/** The compiled file of a source module (relative to the root) when the build is fresh, else the source itself. */
export declare function runnableModule(rel: string, root?: string): string;
export declare function build(root?: string): Promise<{ root: string; dir: string; fresh: boolean }>;
