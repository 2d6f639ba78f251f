import type { Stats } from 'node:fs';
import { lstat, readFile, readdir, readlink, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { invalid } from '../errors.ts';
import type { MediaInput } from '../signals/types.ts';
import { sniffFile } from '../signals/vpdq/sniff.ts';

/**
 * Extensions walked in directories. HEIC, HEIF, JPEG XL and JPEG 2000 cannot be hashed
 * here, but are walked all the same so that each is reported as unsupported, by name,
 * instead of being skipped without a word.
 */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp', '.dib', '.heic', '.heif', '.jxl', '.jp2']);
export const VIDEO_EXTENSIONS = new Set([
  '.mp4', '.m4v', '.mov', '.qt', '.3gp', '.3g2', '.webm', '.mkv', '.avi', '.flv', '.wmv', '.asf',
  '.mpg', '.mpeg', '.m2ts', '.mts', '.ogv', '.ivf', '.h264', '.264', '.hevc', '.h265',
]);
// Not .ts: in a walked directory that is TypeScript far more often than MPEG-TS (a named .ts file is sniffed).
const MEDIA_EXTENSIONS = new Set([...IMAGE_EXTENSIONS, ...VIDEO_EXTENSIONS]);

export interface FoundFile {
  path: string;
  /** Why the file cannot be read (a dangling or looping symbolic link, an unreadable directory): listed so that it is reported. */
  problem?: string;
}

export interface FoundFiles {
  files: FoundFile[];
  /** Directories reached a second time (through a symbolic link loop, or a second link to them), and walked only once. */
  skipped: string[];
}

const code = (error: unknown) => (error as NodeJS.ErrnoException)?.code ?? String(error);

function linkProblem(error: unknown, target: string): string {
  const to = target ? ` (to ${target})` : '';
  if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return `dangling symbolic link${to}`;
  if (code(error) === 'ELOOP') return `symbolic link loop${to}`;
  return `cannot follow symbolic link${to}: ${code(error)}`;
}

/**
 * Files named on the command line, and the files with these extensions under the
 * directories named, in a stable order (each directory's entries sorted by name).
 * Symbolic links are followed, to files and to directories: a linked file is listed when
 * its name or its target's has one of the extensions, a linked directory is walked, and a
 * directory reached again (a link loop, or a second link to it) is walked once. A link that
 * leads nowhere is listed with its problem, to be reported, not dropped.
 */
export async function findFiles(paths: string[], extensions: ReadonlySet<string> = IMAGE_EXTENSIONS): Promise<FoundFiles> {
  const files: FoundFile[] = [];
  const skipped: string[] = [];
  const walked = new Set<string>();
  const wanted = (...names: string[]) => names.some((name) => extensions.has(extname(name).toLowerCase()));

  const follow = async (link: string, named: boolean) => {
    const target = await readlink(link).catch(() => '');
    let info: Stats;
    try {
      info = await stat(link);
    } catch (error) {
      if (named || wanted(link, target)) files.push({ path: link, problem: linkProblem(error, target) });
      return;
    }
    if (info.isDirectory()) await walk(link, info);
    else if (named || (info.isFile() && wanted(link, target))) files.push({ path: link });
  };

  const walk = async (dir: string, info: Stats) => {
    const id = `${info.dev}:${info.ino}`;
    if (walked.has(id)) {
      skipped.push(dir);
      return;
    }
    walked.add(id);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      files.push({ path: dir, problem: `cannot read directory: ${code(error)}` });
      return;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink()) await follow(path, false);
      else if (entry.isDirectory()) await walk(path, await stat(path));
      else if (entry.isFile() && wanted(entry.name)) files.push({ path });
    }
  };

  for (const path of paths) {
    const info = await lstat(path).catch(() => undefined);
    if (!info) throw invalid(`no such file or directory: ${path}`);
    if (info.isSymbolicLink()) await follow(path, true);
    else if (info.isDirectory()) await walk(path, info);
    else files.push({ path });
  }
  return { files, skipped };
}

export interface MediaFile extends FoundFile {
  contentType: 'photo' | 'video';
}

/** Photo or video: by the file's extension, else by its first bytes; photo when neither tells. */
export async function contentTypeOfFile(path: string): Promise<MediaFile['contentType']> {
  const extension = extname(path).toLowerCase();
  if (VIDEO_EXTENSIONS.has(extension)) return 'video';
  if (IMAGE_EXTENSIONS.has(extension)) return 'photo';
  const sniffed = await sniffFile(path).catch(() => undefined);
  return sniffed?.kind === 'video' ? 'video' : 'photo';
}

/** Like findFiles, with videos too, each file with its content type. */
export async function expandMediaPaths(paths: string[]): Promise<{ files: MediaFile[]; skipped: string[] }> {
  const { files, skipped } = await findFiles(paths, MEDIA_EXTENSIONS);
  return { files: await Promise.all(files.map(async (file) => ({ ...file, contentType: await contentTypeOfFile(file.path) }))), skipped };
}

/**
 * What the hashers take for a found file: a video by its path (never read whole), a picture
 * as its bytes. A file that cannot be reached or read is an 'invalid' error, so a command
 * reports it as a file it could not hash and goes on with the rest.
 */
export async function mediaInput(file: MediaFile): Promise<MediaInput> {
  if (file.problem) throw invalid(file.problem);
  if (file.contentType === 'video') return { path: file.path };
  return readFile(file.path).catch((error: NodeJS.ErrnoException) => {
    throw invalid(`cannot read file: ${error.code ?? error.message}`);
  });
}
