/** The Layers table of docs/architecture.md: folder -> what it may import (folders end with `/`; `*` anything, `-` nothing). */
export declare function readLayers(markdown: string): Map<string, string[]>;
/** Whether `target` (a path relative to the repository root) may be imported from top-level folder `from`. */
export declare function mayImport(layers: Map<string, string[]>, from: string, target: string): boolean;
declare const plugin: { rules: Record<string, unknown> };
export default plugin;
