/**
 * Black bars (letterbox above and below, pillarbox left and right) around a frame's picture.
 *
 * A video re-encoded into another frame shape gains bars, and PDQ, which hashes the whole
 * frame, then sees a different picture: Meta's own hashes of pattern-sd-grey-bar.mp4 are 62 to
 * 112 bits from every frame of pattern-hd-no-bar.mp4, the same footage without bars. Hashing
 * the picture inside the bars as well (a query variant, like PDQ's rotations) brings them
 * within a few bits. The vPDQ value itself stays the reference's hash of the whole frame.
 */

/** A line (row or column) is part of a bar when none of its pixels' luma is above this (0-255). */
export const BAR_LUMA_LIMIT = 24;
/** Bars thinner than this share of the frame (both sides together) are left alone. */
const MIN_BAR_SHARE = 0.02;
/** A picture smaller than this share of the frame, per axis, is more likely a dark scene than bars. */
const MIN_PICTURE_SHARE = 0.25;

export interface Crop {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Luma (0-255) of the RGB24 pixel at byte offset i, with PDQ's coefficients, in integers. */
const lumaAt = (rgb: Uint8Array, i: number) => (299 * rgb[i] + 587 * rgb[i + 1] + 114 * rgb[i + 2]) / 1000;

function darkColumn(rgb: Uint8Array, width: number, x: number, top: number, bottom: number): boolean {
  for (let y = top, i = (top * width + x) * 3; y < bottom; y++, i += width * 3) if (lumaAt(rgb, i) > BAR_LUMA_LIMIT) return false;
  return true;
}

function darkRow(rgb: Uint8Array, width: number, y: number, left: number, right: number): boolean {
  for (let i = (y * width + left) * 3, end = (y * width + right) * 3; i < end; i += 3) if (lumaAt(rgb, i) > BAR_LUMA_LIMIT) return false;
  return true;
}

/** Keeps [start, end) when the bars cut off are thick enough and leave enough picture; else the whole axis. */
function axis(start: number, end: number, size: number): [number, number] {
  const cut = start + (size - end);
  if (cut < Math.max(2, MIN_BAR_SHARE * size) || end - start < MIN_PICTURE_SHARE * size) return [0, size];
  return [start, end];
}

/** The picture inside the bars of an RGB24 frame, or undefined when it has no bars worth cutting. */
export function barsCrop(rgb: Uint8Array, width: number, height: number): Crop | undefined {
  let left = 0;
  while (left < width && darkColumn(rgb, width, left, 0, height)) left++;
  if (left === width) return undefined; // a dark frame, not bars
  let right = width;
  while (right > left && darkColumn(rgb, width, right - 1, 0, height)) right--;
  let top = 0;
  while (top < height && darkRow(rgb, width, top, left, right)) top++;
  let bottom = height;
  while (bottom > top && darkRow(rgb, width, bottom - 1, left, right)) bottom--;
  const [x0, x1] = axis(left, right, width);
  const [y0, y1] = axis(top, bottom, height);
  if (x1 - x0 === width && y1 - y0 === height) return undefined;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** The cropped part of an RGB24 frame, as a new frame. */
export function cropPixels(rgb: Uint8Array, width: number, crop: Crop): Uint8Array {
  const out = new Uint8Array(crop.width * crop.height * 3);
  for (let y = 0; y < crop.height; y++) {
    const from = ((crop.y + y) * width + crop.x) * 3;
    out.set(rgb.subarray(from, from + crop.width * 3), y * crop.width * 3);
  }
  return out;
}
