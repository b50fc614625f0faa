"""Draw Arabic digits as pen strokes, in the shapes people write by hand.

Fonts, even handwriting faces, give each digit one shape. Days and serial numbers
written on a letter by hand come in other common forms too. Examples are a 7 with a
bar across its stem or a hook at its start, a 1 with a flag, an open 4 and a 5 whose
bar is a separate stroke. Each form here is a list of strokes, each stroke a list of points
in a box 1 high and about 0.6 wide (y grows downwards). `draw_digit` moves every
point a little, joins the points with a smooth curve and draws it with a pen of
random width, slant and proportions, so no two samples are the same.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

Stroke = list[tuple[float, float]]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 10) -> Stroke:
    """Return points on an ellipse from angle `start` to `end` in degrees (0 is right, 90 is down)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, steps)]


FORMS: dict[str, list[list[Stroke]]] = {
    "0": [
        [_arc(0.3, 0.5, 0.27, 0.48, -100, 265, 16)],
        [_arc(0.3, 0.5, 0.25, 0.48, -80, 290, 16)],  # the end overshoots the start
    ],
    "1": [
        [[(0.3, 0.0), (0.3, 1.0)]],
        # a short flag: a long one would make the open loop of a hasty 9
        [[(0.14, 0.18), (0.32, 0.0), (0.32, 1.0)]],
        [[(0.14, 0.18), (0.32, 0.0), (0.32, 1.0)], [(0.08, 1.0), (0.56, 1.0)]],  # flag and base
    ],
    "2": [
        [[(0.04, 0.25), (0.15, 0.05), (0.35, 0.0), (0.53, 0.15), (0.5, 0.4), (0.25, 0.7), (0.03, 0.97), (0.6, 0.96)]],
        # a loop where the diagonal meets the base
        [[(0.04, 0.22), (0.2, 0.02), (0.45, 0.05), (0.52, 0.28), (0.3, 0.62), (0.05, 0.92), (0.12, 0.98),
          (0.2, 0.85), (0.3, 0.95), (0.6, 0.97)]],
    ],
    "3": [
        [[(0.05, 0.12), (0.25, 0.0), (0.5, 0.08), (0.5, 0.3), (0.25, 0.47), (0.5, 0.58), (0.58, 0.8),
          (0.4, 0.98), (0.15, 0.97), (0.02, 0.85)]],
        [[(0.05, 0.02), (0.55, 0.02), (0.25, 0.4), (0.5, 0.5), (0.58, 0.75), (0.4, 0.97), (0.03, 0.88)]],  # flat top
    ],
    "4": [
        [[(0.4, 0.0), (0.03, 0.66), (0.6, 0.66)], [(0.45, 0.3), (0.45, 1.0)]],  # closed, two strokes
        [[(0.1, 0.0), (0.05, 0.6), (0.6, 0.6)], [(0.45, 0.05), (0.45, 1.0)]],  # open top
        [[(0.45, 1.0), (0.45, 0.0), (0.02, 0.68), (0.6, 0.68)]],  # one stroke
    ],
    "5": [
        [[(0.55, 0.02), (0.12, 0.03)], [(0.12, 0.03), (0.08, 0.45), (0.3, 0.38), (0.52, 0.46), (0.58, 0.7),
                                         (0.45, 0.93), (0.2, 0.98), (0.03, 0.86)]],
        # bar drawn last, the bowl left open
        [[(0.1, 0.0), (0.06, 0.42), (0.35, 0.36), (0.55, 0.55), (0.5, 0.85), (0.25, 0.98), (0.02, 0.9)],
         [(0.1, 0.02), (0.6, 0.0)]],
        # one stroke, the bar and the bowl joined
        [[(0.58, 0.0), (0.15, 0.02), (0.1, 0.42), (0.38, 0.34), (0.58, 0.56), (0.48, 0.88), (0.22, 1.0),
          (0.05, 0.9)]],
        # a curl where the pen starts the stem, and the bar a separate stroke to its right
        [[(0.16, 0.12), (0.06, 0.06), (0.08, 0.0), (0.14, 0.1), (0.1, 0.45), (0.38, 0.4), (0.6, 0.6),
          (0.5, 0.92), (0.25, 0.99), (0.04, 0.88)], [(0.24, 0.02), (0.66, -0.02)]],
        # a long bar, and a bowl whose end comes back to the foot of the stem
        [[(0.1, 0.02), (0.75, -0.02)], [(0.1, 0.02), (0.08, 0.5), (0.4, 0.42), (0.62, 0.62), (0.55, 0.92),
                                        (0.3, 1.0), (0.1, 0.9), (0.1, 0.78)]],
        # a flat bar reaching past the bowl and a wide bowl with a turned-up end
        [[(0.0, 0.03), (0.62, 0.0)], [(0.12, 0.03), (0.1, 0.45), (0.35, 0.42), (0.58, 0.6), (0.52, 0.9),
                                       (0.28, 0.98), (0.08, 0.86), (0.14, 0.78)]],
    ],
    "6": [
        [[(0.5, 0.02), (0.25, 0.25), (0.07, 0.6), (0.12, 0.9), (0.33, 1.0), (0.53, 0.85), (0.5, 0.6),
          (0.3, 0.52), (0.1, 0.65)]],
        [[(0.55, 0.05), (0.3, 0.0), (0.1, 0.3), (0.05, 0.7), (0.25, 0.99), (0.5, 0.9), (0.55, 0.65),
          (0.3, 0.5), (0.08, 0.62)]],
    ],
    "7": [
        [[(0.02, 0.03), (0.58, 0.02), (0.25, 1.0)]],
        [[(0.02, 0.03), (0.58, 0.02), (0.25, 1.0)], [(0.12, 0.5), (0.52, 0.48)]],  # bar across the stem
        [[(0.02, 0.18), (0.04, 0.02), (0.58, 0.03), (0.3, 0.5), (0.22, 1.0)]],  # hook at the start
        # a small loop at the start
        [[(0.08, 0.02), (0.02, 0.14), (0.12, 0.16), (0.1, 0.04), (0.35, 0.06), (0.58, 0.02), (0.4, 0.45),
          (0.28, 1.0)]],
        # hooked and crossed, with a curved stem
        [[(0.0, 0.15), (0.05, 0.0), (0.58, 0.04), (0.38, 0.4), (0.25, 1.0)], [(0.1, 0.45), (0.55, 0.42)]],
    ],
    "8": [
        [[(0.5, 0.12), (0.3, 0.0), (0.08, 0.12), (0.15, 0.35), (0.45, 0.58), (0.56, 0.82), (0.3, 1.0),
          (0.04, 0.82), (0.15, 0.58), (0.45, 0.35), (0.52, 0.18), (0.5, 0.12)]],
        [_arc(0.3, 0.25, 0.22, 0.24, 0, 360, 12), _arc(0.3, 0.74, 0.27, 0.26, 0, 360, 12)],  # two loops
    ],
    "9": [
        [_arc(0.3, 0.27, 0.25, 0.25, 0, 360, 12), [(0.55, 0.25), (0.53, 1.0)]],
        [_arc(0.3, 0.27, 0.25, 0.25, 10, 370, 12), [(0.55, 0.3), (0.45, 0.8), (0.2, 1.0)]],  # curved tail
    ],
}


def _smooth(points: Stroke, steps: int = 8) -> Stroke:
    """Return a Catmull-Rom curve through `points` (a two-point stroke stays straight)."""
    if len(points) < 3:
        return points
    padded = [points[0]] + points + [points[-1]]
    curve = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = (np.array(p) for p in padded[i - 1:i + 3])
        for t in np.linspace(0.0, 1.0, steps, endpoint=False):
            curve.append(tuple(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                                      + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3)))
    curve.append(points[-1])
    return curve


def draw_digit(digit: str, height: int, rng: np.random.Generator) -> Image.Image:
    """Return a grey image of `digit` written with a pen, black on white, about `height` pixels high."""
    strokes = FORMS[digit][int(rng.integers(len(FORMS[digit])))]
    jitter = float(rng.uniform(0.015, 0.05))
    slant = float(rng.uniform(-0.35, 0.2))  # writers mostly lean right, so x shifts left lower down
    aspect = float(rng.uniform(0.7, 1.9))  # a day written large can be wider than tall
    angle = math.radians(float(rng.uniform(-6, 6)))
    pen = max(1.5, height * float(rng.uniform(0.04, 0.13)))
    margin = int(pen) + 4
    size = (int(height * 1.2) + 2 * margin, height + 2 * margin)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        moved = [(x + rng.normal(0, jitter), y + rng.normal(0, jitter)) for x, y in stroke]
        points = []
        for x, y in _smooth(moved):
            x = (x - slant * (y - 0.5)) * aspect
            rx = x * math.cos(angle) - (y - 0.5) * math.sin(angle)
            ry = x * math.sin(angle) + (y - 0.5) * math.cos(angle) + 0.5
            points.append((margin + rx * height + height * 0.1, margin + ry * height))
        width = pen * float(rng.uniform(0.8, 1.2))
        draw.line(points, fill=0, width=max(1, round(width)), joint="curve")
        radius = width / 2
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    return image
