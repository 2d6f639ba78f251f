"""Times the reference's own steps in Pillow (C): decode, and thumbnail((512, 512)) as the
reference PDQ pipeline runs it (draft, reduce, bicubic). Called by bench/hash-throughput.ts with
image paths and a run count; prints one JSON object per image. Only benign generated images
and the shared PDQ vectors are ever passed in."""
import io
import json
import statistics
import sys
import time

from PIL import Image


def median_ms(step, runs):
    step()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def decode(data):
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def decode_and_thumbnail(data):
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((512, 512))
        # thumbnail() returns without decoding when the image already fits; PDQ needs the pixels.
        image.load()


runs = int(sys.argv[1])
for path in sys.argv[2:]:
    with open(path, "rb") as file:
        data = file.read()
    decode_ms = median_ms(lambda: decode(data), runs)
    pipeline_ms = median_ms(lambda: decode_and_thumbnail(data), runs)
    print(json.dumps({"path": path, "decode_ms": decode_ms, "thumbnail_pipeline_ms": pipeline_ms}))
