export const builds: Record<string, Record<string, string>>;
export const preload: { entry: string; outDir: string };
export function compile(): Promise<void>;
