export declare const NO_ENDPOINTS_IP: string;
export declare function rewriteListenArgs(args: unknown[], podIP: string): unknown[];
export declare function candidateNames(name: string, namespace: string): string[];
