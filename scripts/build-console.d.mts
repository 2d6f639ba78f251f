export declare const consoleRoot: string;
export declare const consoleDist: string;
export declare function buildConsole(options?: { logLevel?: 'info' | 'warn' | 'error' | 'silent' }): Promise<void>;
export declare function consoleIsBuilt(): boolean;
