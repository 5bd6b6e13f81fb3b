"""Pure numpy geometry for OCR post-processing: components, hulls, rectangles, resampling.

Coordinates follow OpenCV's convention so results can be compared with the PP-OCR reference:
a pixel's centre sits at integer (x, y), and shapes built from pixels use those centres
(a run covering columns 10..50 spans a width of 40, as `cv2.minAreaRect` reports it).
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def find_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of True pixels in raster order.

    Returns (rows, starts, ends) with `ends` exclusive, all int64 arrays of equal length.
    """
    mask = np.asarray(mask, dtype=bool)
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    steps = np.diff(padded, axis=1)
    start_rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)
    return start_rows.astype(np.int64), starts.astype(np.int64), ends.astype(np.int64)


def label_runs(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> tuple[np.ndarray, int]:
    """8-connected component label (0..n-1, in raster order of first pixel) of each run."""
    count = len(rows)
    if count == 0:
        return np.zeros(0, dtype=np.int64), 0
    stride = width + 2  # keeps keys of different rows apart even with the ±1 of 8-connectivity
    last = ends - 1
    start_keys = rows * stride + starts
    end_keys = rows * stride + last
    # Runs of the next row touching run i (8-connected) form one contiguous slice [lo, hi).
    lo = np.searchsorted(end_keys, (rows + 1) * stride + starts - 1, side="left")
    hi = np.searchsorted(start_keys, (rows + 1) * stride + last + 1, side="right")
    fan_out = np.maximum(hi - lo, 0)
    source = np.repeat(np.arange(count), fan_out)
    offsets = np.arange(source.size) - np.repeat(np.cumsum(fan_out) - fan_out, fan_out)
    target = np.repeat(lo, fan_out) + offsets
    parents = _union_edges(count, source, target)
    _, labels = np.unique(parents, return_inverse=True)
    return labels.astype(np.int64), int(labels.max()) + 1


def _union_edges(count: int, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Vectorised hook-and-compress union-find; returns each node's root (its smallest member)."""
    parents = np.arange(count)
    while True:
        root_a, root_b = parents[source], parents[target]
        smaller = np.minimum(root_a, root_b)
        hooked = parents.copy()
        np.minimum.at(hooked, root_a, smaller)
        np.minimum.at(hooked, root_b, smaller)
        while True:  # pointer jumping until every node points at a root
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, parents):
            return parents
        parents = hooked


def connected_components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components: (label image with 0 = background and 1..n, n)."""
    mask = np.asarray(mask, dtype=bool)
    rows, starts, ends = find_runs(mask)
    labels, count = label_runs(rows, starts, ends, mask.shape[1])
    image = np.zeros(mask.shape, dtype=np.int32)
    for row, start, end, label in zip(rows, starts, ends, labels):
        image[row, start:end] = label + 1
    return image, count


def component_points(mask: np.ndarray) -> list[np.ndarray]:
    """Per 8-connected component, the first and last pixel of each of its runs as (x, y) floats.

    Their convex hull equals the hull of the component's outer contour, which is all the
    minimum-area rectangle needs. Components come in raster order of their first pixel.
    """
    mask = np.asarray(mask, dtype=bool)
    rows, starts, ends = find_runs(mask)
    labels, count = label_runs(rows, starts, ends, mask.shape[1])
    if count == 0:
        return []
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(count + 1))
    firsts = np.stack([starts, rows], axis=1).astype(np.float64)
    lasts = np.stack([ends - 1, rows], axis=1).astype(np.float64)
    points = []
    for index in range(count):
        members = order[bounds[index] : bounds[index + 1]]
        points.append(np.concatenate([firsts[members], lasts[members]]))
    return points


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Convex hull (Andrew's monotone chain) without collinear points, counter-clockwise in
    a y-up frame; returns a (k, 2) float array (k = 1 or 2 for degenerate input)."""
    unique = np.unique(np.asarray(points, dtype=np.float64).reshape(-1, 2), axis=0)
    if len(unique) <= 2:
        return unique
    ordered = [tuple(point) for point in unique]  # np.unique sorts by x, then y

    def half(sequence):
        chain = []
        for point in sequence:
            while len(chain) >= 2 and _cross(chain[-2], chain[-1], point) <= 0:
                chain.pop()
            chain.append(point)
        return chain

    lower = half(ordered)
    upper = half(reversed(ordered))
    return np.array(lower[:-1] + upper[:-1], dtype=np.float64)


def _cross(origin, a, b) -> float:
    return (a[0] - origin[0]) * (b[1] - origin[1]) - (a[1] - origin[1]) * (b[0] - origin[0])


def min_area_rect(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Minimum-area enclosing rectangle by rotating calipers over the hull's edges.

    Returns (corners (4, 2) in cyclic order, width along the chosen edge, height).
    """
    hull = convex_hull(points)
    if len(hull) == 1:
        return np.repeat(hull, 4, axis=0), 0.0, 0.0
    edges = np.roll(hull, -1, axis=0) - hull
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    keep = lengths > 0
    directions = edges[keep] / lengths[keep, None]
    normals = np.stack([-directions[:, 1], directions[:, 0]], axis=1)
    along = hull @ directions.T  # (points, edges)
    across = hull @ normals.T
    widths = along.max(axis=0) - along.min(axis=0)
    heights = across.max(axis=0) - across.min(axis=0)
    best = int(np.argmin(widths * heights))
    u, v = directions[best], normals[best]
    u_min, u_max = along[:, best].min(), along[:, best].max()
    v_min, v_max = across[:, best].min(), across[:, best].max()
    corners = np.array(
        [u * u_min + v * v_min, u * u_max + v * v_min, u * u_max + v * v_max, u * u_min + v * v_max]
    )
    return corners, float(widths[best]), float(heights[best])


def expand_rect(corners: np.ndarray, distance: float) -> np.ndarray:
    """Grow a rectangle (4 corners in cyclic order) outwards by `distance` on every side.

    Equals the minimum-area rectangle of a round-joined polygon offset, which is what DB's
    "unclip" computes with pyclipper (https://arxiv.org/abs/1911.08947, section 3.4).
    """
    corners = np.asarray(corners, dtype=np.float64)
    center = corners.mean(axis=0)
    side_u = corners[1] - corners[0]
    side_v = corners[3] - corners[0]
    unit_u = side_u / max(np.hypot(*side_u), 1e-12)
    unit_v = side_v / max(np.hypot(*side_v), 1e-12)
    half_u = side_u / 2 + unit_u * distance
    half_v = side_v / 2 + unit_v * distance
    return np.array(
        [center - half_u - half_v, center + half_u - half_v, center + half_u + half_v, center - half_u + half_v]
    )


def polygon_area_perimeter(polygon: np.ndarray) -> tuple[float, float]:
    polygon = np.asarray(polygon, dtype=np.float64)
    following = np.roll(polygon, -1, axis=0)
    area = 0.5 * abs(np.sum(polygon[:, 0] * following[:, 1] - following[:, 0] * polygon[:, 1]))
    perimeter = float(np.sum(np.hypot(*(following - polygon).T)))
    return float(area), perimeter


def convex_polygon_mask(polygon: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centre lies inside a convex polygon or within half a pixel of its border
    (close to `cv2.fillPoly`, which also paints the outline)."""
    polygon = np.asarray(polygon, dtype=np.float64)
    height, width = shape
    ys, xs = np.mgrid[0:height, 0:width]
    following = np.roll(polygon, -1, axis=0)
    area, _ = polygon_area_perimeter(polygon)
    inside = np.ones(shape, dtype=bool)
    if area == 0:
        return inside
    orientation = np.sign(np.sum(polygon[:, 0] * following[:, 1] - following[:, 0] * polygon[:, 1]))
    for (x0, y0), (x1, y1) in zip(polygon, following):
        length = np.hypot(x1 - x0, y1 - y0)
        if length == 0:
            continue
        signed = orientation * ((x1 - x0) * (ys - y0) - (y1 - y0) * (xs - x0)) / length
        inside &= signed >= -0.5
    return inside


def order_points_clockwise(points: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left (image y grows downwards)."""
    points = np.asarray(points, dtype=np.float32)
    by_x = points[np.argsort(points[:, 0], kind="stable")]
    left = by_x[:2][np.argsort(by_x[:2, 1], kind="stable")]
    right = by_x[2:][np.argsort(by_x[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], dtype=np.float32)


def resize_bilinear(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resize with half-pixel centres and no anti-aliasing (`cv2.INTER_LINEAR`).

    PP-OCR's weights were trained on OpenCV resizes; Pillow's filters widen when shrinking,
    which changes what the models see.
    """
    source = np.asarray(image)
    source_h, source_w = source.shape[:2]
    xs, x_weights = _linear_taps(source_w, width)
    ys, y_weights = _linear_taps(source_h, height)
    data = source.astype(np.float32)
    extra = (None,) * (data.ndim - 2)
    columns = data[:, xs[0]] * (1 - x_weights)[(None, slice(None)) + extra] + data[:, xs[1]] * x_weights[
        (None, slice(None)) + extra
    ]
    rows = columns[ys[0]] * (1 - y_weights)[(slice(None), None) + extra] + columns[ys[1]] * y_weights[
        (slice(None), None) + extra
    ]
    if source.dtype == np.uint8:
        return np.clip(np.rint(rows), 0, 255).astype(np.uint8)
    return rows.astype(source.dtype)


def _linear_taps(source_size: int, target_size: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    scale = source_size / target_size
    position = (np.arange(target_size) + 0.5) * scale - 0.5
    left = np.floor(position)
    weight = (position - left).astype(np.float32)
    left = left.astype(np.int64)
    weight[left < 0] = 0.0
    left = np.clip(left, 0, source_size - 1)
    right = np.clip(left + 1, 0, source_size - 1)
    return (left, right), weight


def crop_quad(image: Image.Image, quad: np.ndarray) -> np.ndarray | None:
    """Rectify the quadrilateral (TL, TR, BR, BL) of `image` into an upright array.

    The output size and corner mapping follow PP-OCR's `get_rotate_crop_image`; a crop
    at least 1.5 times taller than wide is turned 90° counter-clockwise (vertical text).
    Returns None for a degenerate quad.
    """
    quad = np.asarray(quad, dtype=np.float64)
    width = int(max(np.hypot(*(quad[0] - quad[1])), np.hypot(*(quad[2] - quad[3]))))
    height = int(max(np.hypot(*(quad[0] - quad[3])), np.hypot(*(quad[1] - quad[2]))))
    if width < 1 or height < 1:
        return None
    top_left, top_right, bottom_right, bottom_left = quad
    data = (*top_left, *bottom_left, *bottom_right, *top_right)
    crop = image.transform((width, height), Image.Transform.QUAD, data, resample=Image.Resampling.BICUBIC)
    if height / width >= 1.5:
        crop = crop.transpose(Image.Transpose.ROTATE_90)
    return np.asarray(crop)
