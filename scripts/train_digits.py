#!/usr/bin/env python3
"""Train the Thai and Arabic digit recognizer and write parsers/data/digits.npz.

Usage: python scripts/train_digits.py [--samples N] [--hold-out FACE] [--output PATH]

Digits 0-9 and ๐-๙ are rendered from Sarabun (PyPI package fontpkg-sarabun) and the
TLWG faces of Debian's fonts-thai-tlwg (Garuda, Kinnari, Laksaman, Loma, Norasi,
Purisa, Sawasdee, Tlwg Mono/Typewriter/Typist/Typo, Umpush, Waree). Every installed
weight and slant is used at several sizes, with scan-like tilt, shear, blur,
threshold, stroke thickening or thinning and speckle. A scikit-learn MLP is trained on them and its
weights are saved as plain arrays, so the project loads them with numpy alone.
The held-out face (Laksaman by default) is left out for the tests to read.
Needs the `train` extra: pip install -e '.[train]'.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parsers.ocr.digits import LABELS, MODEL_PATH, glyph_features  # noqa: E402

TLWG_FOLDER = Path("/usr/share/fonts/truetype/tlwg")
DEFAULT_HOLD_OUT = "Laksaman"


def font_files(hold_out: str) -> list[Path]:
    """Return the training font files: Sarabun's and the TLWG faces, without the held-out face."""
    import fontpkg_sarabun

    sarabun = sorted((Path(fontpkg_sarabun.__file__).parent / "files").glob("*.ttf"))
    tlwg = sorted(TLWG_FOLDER.glob("*.ttf")) if TLWG_FOLDER.is_dir() else []
    if not tlwg:
        print(f"warning: no TLWG fonts in {TLWG_FOLDER}; install fonts-thai-tlwg", file=sys.stderr)
    return [f for f in sarabun + tlwg if not f.name.startswith(hold_out)]


def render_digit(font: ImageFont.FreeTypeFont, digit: str, rng: np.random.Generator) -> np.ndarray:
    """Return one digit as a boolean ink mask, degraded like a 300 dpi office scan."""
    size = font.size
    canvas = Image.new("L", (size * 3, size * 3), 255)
    ImageDraw.Draw(canvas).text((size, size // 2), digit, font=font, fill=0)
    canvas = canvas.rotate(float(rng.uniform(-5, 5)), resample=Image.Resampling.BILINEAR, fillcolor=255)
    # Shear and uneven width stand in for the slant and proportions of handwriting.
    shear = float(rng.uniform(-0.35, 0.35))
    stretch = float(rng.uniform(0.75, 1.3))
    canvas = canvas.transform(canvas.size, Image.Transform.AFFINE,
                              (stretch, shear, -shear * size, 0, 1, 0),
                              resample=Image.Resampling.BILINEAR, fillcolor=255)
    blur = float(rng.uniform(0.0, 1.3))
    if blur > 0.2:
        canvas = canvas.filter(ImageFilter.GaussianBlur(blur))
    stroke = rng.integers(0, 4)
    if stroke == 1:
        canvas = canvas.filter(ImageFilter.MinFilter(3))  # thicker strokes, as in an over-inked copy
    elif stroke == 2 and size > 30:
        canvas = canvas.filter(ImageFilter.MaxFilter(3))  # thinner strokes, as in a faint copy
    gray = np.asarray(canvas, dtype=np.float32)
    gray += rng.normal(0, 12, gray.shape)
    ink = gray < rng.uniform(90, 170)
    rows = np.flatnonzero(ink.any(axis=1))
    columns = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return ink
    # Speckle goes only on the glyph's own box: at read time the glyph is cut out
    # of the page by its connected components, so specks around it are not seen.
    glyph = ink[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    return glyph ^ (rng.random(glyph.shape) < 0.01)


def build_dataset(fonts: list[Path], samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features, targets = [], []
    for path in fonts:
        # Purisa is the one handwriting face; it gets more samples, since serial numbers
        # and days are often written by hand.
        count = samples * 4 if path.name.startswith("Purisa") else samples
        for _ in range(count):
            font = ImageFont.truetype(str(path), int(rng.integers(22, 64)))
            for label, digit in enumerate(LABELS):
                features.append(glyph_features(render_digit(font, digit, rng)))
                targets.append(label)
    return np.stack(features), np.array(targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=14, help="renderings of each digit per font file")
    parser.add_argument("--hidden", type=int, default=128, help="units in the hidden layer")
    parser.add_argument("--hold-out", default=DEFAULT_HOLD_OUT, help="font face left out of training")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=MODEL_PATH)
    args = parser.parse_args()

    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    fonts = font_files(args.hold_out)
    started = time.monotonic()
    features, targets = build_dataset(fonts, args.samples, args.seed)
    print(f"{len(targets)} glyphs from {len(fonts)} font files in {time.monotonic() - started:.0f} s")
    train_x, test_x, train_y, test_y = train_test_split(
        features, targets, test_size=0.1, random_state=args.seed, stratify=targets)
    network = MLPClassifier(hidden_layer_sizes=(args.hidden,), alpha=1e-4, batch_size=256,
                            max_iter=80, early_stopping=True, random_state=args.seed)
    network.fit(train_x, train_y)
    print(f"trained in {time.monotonic() - started:.0f} s, validation accuracy {network.score(test_x, test_y):.4f}")

    labels = "".join(LABELS[i] for i in network.classes_)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.output,
        hidden_weights=network.coefs_[0].astype(np.float32),
        hidden_bias=network.intercepts_[0].astype(np.float32),
        output_weights=network.coefs_[1].astype(np.float32),
        output_bias=network.intercepts_[1].astype(np.float32),
        labels=np.array(labels),
    )
    print(f"wrote {args.output} ({args.output.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
