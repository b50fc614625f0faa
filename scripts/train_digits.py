#!/usr/bin/env python3
"""Train the Thai and Arabic digit recognizer and write parsers/data/digits.npz.

Usage: python scripts/train_digits.py [--samples N] [--hold-out FACE] [--output PATH]

Digits 0-9 and ๐-๙ are rendered from Sarabun (PyPI package fontpkg-sarabun) and the
TLWG faces of Debian's fonts-thai-tlwg (Garuda, Kinnari, Laksaman, Loma, Norasi,
Purisa, Sawasdee, Tlwg Mono/Typewriter/Typist/Typo, Umpush, Waree). Every installed
weight and slant is used at several sizes, with scan-like tilt, shear, blur,
threshold, stroke thickening or thinning and speckle.
Handwritten days and serial numbers come from two more sources: the Arabic digits of
the Latin handwriting faces in HANDWRITING_FONTS (Debian packages, used when
installed), and pen strokes drawn by scripts/digit_strokes.py in the forms people
write. A scikit-learn MLP is trained on them and its weights are saved as plain
arrays, so the project loads them with numpy alone.
The held-out faces (Laksaman and Humor Sans by default) are left out for the tests to read.
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
from scripts.digit_strokes import FORMS, draw_digit  # noqa: E402

TLWG_FOLDER = Path("/usr/share/fonts/truetype/tlwg")
DEFAULT_HOLD_OUT = "Laksaman"
DEFAULT_HOLD_OUT_HANDWRITING = "Humor-Sans"
# Latin handwriting faces whose Arabic digits stand in for handwritten ones, with the
# Debian package of each. Outline faces such as femkeklaver are left out, because the
# recognizer reads filled ink.
HANDWRITING_FONTS = {
    "fonts-breip": "/usr/share/fonts/truetype/breip/Breip.ttf",
    "fonts-dkg-handwriting": "/usr/share/fonts/truetype/fifthhorseman/dkg*.ttf",
    "fonts-humor-sans": "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    "fonts-comic-neue": "/usr/share/fonts/opentype/comic-neue/ComicNeue-*.otf",
    "fonts-bwht": "/usr/share/fonts/opentype/bwht/*.otf",
    "fonts-sjfonts": "/usr/share/fonts/truetype/sjfonts/*.ttf",
    "fonts-dancingscript": "/usr/share/fonts/opentype/dancingscript/*.otf",
    "fonts-rufscript": "/usr/share/fonts/truetype/rufscript/*.ttf",
}


def font_files(hold_out: str) -> list[Path]:
    """Return the training font files: Sarabun's and the TLWG faces, without the held-out face."""
    import fontpkg_sarabun

    sarabun = sorted((Path(fontpkg_sarabun.__file__).parent / "files").glob("*.ttf"))
    tlwg = sorted(TLWG_FOLDER.glob("*.ttf")) if TLWG_FOLDER.is_dir() else []
    if not tlwg:
        print(f"warning: no TLWG fonts in {TLWG_FOLDER}; install fonts-thai-tlwg", file=sys.stderr)
    return [f for f in sarabun + tlwg if not f.name.startswith(hold_out)]


def handwriting_font_files(hold_out: str) -> list[Path]:
    """Return the installed files of HANDWRITING_FONTS without the held-out face, warning about each missing package."""
    found = []
    for package, pattern in HANDWRITING_FONTS.items():
        files = sorted(Path("/").glob(pattern.lstrip("/")))
        if not files:
            print(f"warning: no font files at {pattern}; install {package}", file=sys.stderr)
        found.extend(f for f in files if not f.name.startswith(hold_out))
    return found


def render_digit(font: ImageFont.FreeTypeFont, digit: str, rng: np.random.Generator) -> np.ndarray:
    """Return one digit of `font` as a boolean ink mask, degraded like a 300 dpi office scan."""
    size = font.size
    canvas = Image.new("L", (size * 3, size * 3), 255)
    ImageDraw.Draw(canvas).text((size, size // 2), digit, font=font, fill=0)
    return degrade(canvas, size, rng)


def render_pen_digit(digit: str, rng: np.random.Generator) -> np.ndarray:
    """Return one Arabic digit drawn with pen strokes as a boolean ink mask, degraded like a scan."""
    height = int(rng.integers(20, 60))
    glyph = draw_digit(digit, height, rng)
    canvas = Image.new("L", (glyph.width + height * 2, glyph.height + height * 2), 255)
    canvas.paste(glyph, (height, height))
    return degrade(canvas, height, rng, shear_range=0.15)


def degrade(canvas: Image.Image, size: int, rng: np.random.Generator, shear_range: float = 0.35) -> np.ndarray:
    """Return the ink of a black-on-white glyph image after tilt, shear, blur, noise and threshold."""
    canvas = canvas.rotate(float(rng.uniform(-5, 5)), resample=Image.Resampling.BILINEAR, fillcolor=255)
    # Shear and uneven width stand in for the slant and proportions of handwriting.
    shear = float(rng.uniform(-shear_range, shear_range))
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


def has_glyph(font: ImageFont.FreeTypeFont, character: str) -> bool:
    """Tell whether `font` draws `character` with its own glyph rather than the missing-glyph box."""
    missing = font.getmask("\U000F0000")
    drawn = font.getmask(character)
    return drawn.size != missing.size or bytes(drawn) != bytes(missing)


def build_dataset(fonts: list[Path], handwriting: list[Path], samples: int, pen_samples: int,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features, targets = [], []
    for path in fonts + handwriting:
        # Purisa is the one Thai handwriting face; it gets more samples, since serial
        # numbers and days are often written by hand.
        count = samples * 4 if path.name.startswith("Purisa") else samples
        for _ in range(count):
            font = ImageFont.truetype(str(path), int(rng.integers(22, 64)))
            for label, digit in enumerate(LABELS):
                if path in handwriting and not has_glyph(font, digit):
                    continue
                features.append(glyph_features(render_digit(font, digit, rng)))
                targets.append(label)
    for _ in range(pen_samples):
        for label, digit in enumerate(LABELS):
            if digit in FORMS:
                features.append(glyph_features(render_pen_digit(digit, rng)))
                targets.append(label)
    return np.stack(features), np.array(targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=14, help="renderings of each digit per font file")
    parser.add_argument("--pen-samples", type=int, default=1200,
                        help="pen-stroke drawings of each Arabic digit (scripts/digit_strokes.py)")
    parser.add_argument("--hidden", type=int, default=256, help="units in the hidden layer")
    parser.add_argument("--hold-out", default=DEFAULT_HOLD_OUT, help="Thai font face left out of training")
    parser.add_argument("--hold-out-handwriting", default=DEFAULT_HOLD_OUT_HANDWRITING,
                        help="handwriting face of HANDWRITING_FONTS left out of training")
    parser.add_argument("--members", type=int, default=2,
                        help="networks trained, each on its own rendering of the data, whose outputs are averaged")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the first network; the next ones add 1")
    parser.add_argument("--output", type=Path, default=MODEL_PATH)
    args = parser.parse_args()

    fonts = font_files(args.hold_out)
    handwriting = handwriting_font_files(args.hold_out_handwriting)
    started = time.monotonic()
    networks = [train_member(fonts, handwriting, args, args.seed + member) for member in range(args.members)]
    print(f"{args.members} networks in {time.monotonic() - started:.0f} s")

    labels = "".join(LABELS[i] for i in networks[0].classes_)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # float16 halves the file; the recognizer computes in float32 and reads the same digits.
    np.savez_compressed(
        args.output,
        hidden_weights=np.stack([n.coefs_[0] for n in networks]).astype(np.float16),
        hidden_bias=np.stack([n.intercepts_[0] for n in networks]).astype(np.float16),
        output_weights=np.stack([n.coefs_[1] for n in networks]).astype(np.float16),
        output_bias=np.stack([n.intercepts_[1] for n in networks]).astype(np.float16),
        labels=np.array(labels),
    )
    print(f"wrote {args.output} ({args.output.stat().st_size // 1024} KiB)")


def train_member(fonts: list[Path], handwriting: list[Path], args: argparse.Namespace, seed: int):
    """Render a training set with `seed` and return an MLP fitted on it."""
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    started = time.monotonic()
    features, targets = build_dataset(fonts, handwriting, args.samples, args.pen_samples, seed)
    print(f"seed {seed}: {len(targets)} glyphs from {len(fonts) + len(handwriting)} font files and pen strokes"
          f" in {time.monotonic() - started:.0f} s")
    train_x, test_x, train_y, test_y = train_test_split(
        features, targets, test_size=0.1, random_state=seed, stratify=targets)
    network = MLPClassifier(hidden_layer_sizes=(args.hidden,), alpha=1e-4, batch_size=256,
                            max_iter=150, early_stopping=True, random_state=seed)
    network.fit(train_x, train_y)
    print(f"seed {seed}: trained in {time.monotonic() - started:.0f} s,"
          f" validation accuracy {network.score(test_x, test_y):.4f}")
    return network


if __name__ == "__main__":
    main()
