import sharp from 'sharp';

/**
 * What a reviewer sees before revealing: the media reduced to a few grey levels on a tiny grid,
 * scaled back up and blurred. At most PREVIEW_GRID × PREVIEW_GRID samples of brightness
 * survive, so shapes, faces and text cannot be made out, while a reviewer still sees that
 * there is a picture and its rough light and dark. No colour, no metadata.
 */
export const PREVIEW_GRID = 12;
/** The long side of the preview as sent, in pixels. */
export const PREVIEW_EDGE = 240;
/** Gaussian blur applied after scaling up, so the grid does not show as blocks. */
export const PREVIEW_SIGMA = 10;

export const PREVIEW_MEDIA_TYPE = 'image/jpeg';

/** Media that cannot be decoded (or is not an image) previews as flat grey. */
const UNDECODABLE_GREY = 128;

/** A blurred, greyscale JPEG of the media; flat grey when it cannot be decoded. */
export async function blurredPreview(media: Buffer): Promise<Buffer> {
  let grid: { data: Buffer; width: number; height: number };
  try {
    const { data, info } = await sharp(media, { limitInputPixels: 100_000_000, animated: false })
      .rotate()
      .flatten({ background: { r: UNDECODABLE_GREY, g: UNDECODABLE_GREY, b: UNDECODABLE_GREY } })
      .greyscale()
      .resize(PREVIEW_GRID, PREVIEW_GRID, { fit: 'inside', kernel: 'linear' })
      .toColourspace('b-w')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`expected one channel, got ${info.channels}`);
    grid = { data, width: info.width, height: info.height };
  } catch {
    grid = { data: Buffer.alloc(1, UNDECODABLE_GREY), width: 1, height: 1 };
  }
  const scale = PREVIEW_EDGE / Math.max(grid.width, grid.height);
  const width = Math.max(1, Math.round(grid.width * scale));
  const height = Math.max(1, Math.round(grid.height * scale));
  return sharp(grid.data, { raw: { width: grid.width, height: grid.height, channels: 1 } })
    .resize(width, height, { kernel: 'cubic', fit: 'fill' })
    .blur(PREVIEW_SIGMA)
    .toColourspace('b-w')
    .jpeg({ quality: 80 })
    .toBuffer();
}
