import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { invalid } from '../errors.ts';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff']);

/** Files named on the command line, with directories walked for image files (sorted, so output is stable). */
export async function expandImagePaths(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) files.push(path);
    }
  };
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw invalid(`no such file or directory: ${path}`);
    if (info.isDirectory()) await walk(path);
    else files.push(path);
  }
  return files;
}
