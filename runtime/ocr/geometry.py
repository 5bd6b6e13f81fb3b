"""Pure numpy geometry for OCR post-processing: components, hulls, rectangles, resampling.

Coordinates follow OpenCV's convention so results can be compared with the PP-OCR reference:
a pixel's centre sits at integer (x, y), and shapes built from pixels use those centres
(a run covering columns 10..50 spans a width of 40, as `cv2.minAreaRect` reports it).
"""

from __future__ import annotations

import numpy as np

_STANDING_CROP_RATIO = 1.5  # crop_quad turns a crop this many times taller than wide a quarter (vertical text)


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
    which changes what the models see. A uint8 image gets OpenCV's own fixed-point result,
    bit for bit (`_resize_bilinear_uint8`); others are resized in float.
    """
    source = np.asarray(image)
    if source.dtype == np.uint8:
        return _resize_bilinear_uint8(source, width, height)
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


_RESIZE_COEF_SCALE = 2048  # OpenCV's INTER_RESIZE_COEF_BITS = 11
_RESIZE_BLOCK_ROWS = 64


def _resize_bilinear_uint8(source: np.ndarray, width: int, height: int) -> np.ndarray:
    """`cv2.resize(source, (width, height))` for uint8, as OpenCV computes it: float32 source
    positions, weights rounded to 11 bits, rows mixed in integers, then the vector kernel's
    rounding of the vertical mix ((b0*(r0>>4))>>16 + (b1*(r1>>4))>>16 + 2) >> 2. Only the
    horizontal positions are clamped at the borders (a row above the top mixes row 0 with
    itself). The float resize differed by one grey level on ~10% of pixels, which moved
    detector boxes and recogniser confidences (issue 13)."""
    source_h, source_w = source.shape[:2]
    x0, x1, a0, a1 = _fixed_point_taps(source_w, width, clamp=True)
    y0, y1, b0, b1 = _fixed_point_taps(source_h, height, clamp=False)
    data = source.reshape(source_h, source_w, -1)
    out = np.empty((height, width, data.shape[2]), dtype=np.uint8)
    a0, a1 = a0.astype(np.int32)[None, :, None], a1.astype(np.int32)[None, :, None]
    b0, b1 = b0.astype(np.int32)[:, None, None], b1.astype(np.int32)[:, None, None]
    # A block of output rows at a time, so the int32 intermediates stay in the CPU's cache
    # (the same arithmetic: a 1504x736 detector input 43 -> 28 ms, a 2200x1700 scan's 80 -> 55).
    for start in range(0, height, _RESIZE_BLOCK_ROWS):
        stop = min(height, start + _RESIZE_BLOCK_ROWS)
        # Only the source rows these output rows read are mixed (a page shrunk for the detector
        # skips most), in int32: 2 * 255 * 2048 and 2048 * 65280 fit, so the sums are OpenCV's exactly.
        needed, where = np.unique(np.concatenate([y0[start:stop], y1[start:stop]]), return_inverse=True)
        picked = data[needed]
        rows = picked[:, x0].astype(np.int32) * a0
        rows += picked[:, x1].astype(np.int32) * a1
        rows >>= 4
        upper, lower = rows[where[: stop - start]], rows[where[stop - start :]]
        upper *= b0[start:stop]
        lower *= b1[start:stop]
        upper >>= 16
        lower >>= 16
        upper += lower
        upper += 2
        upper >>= 2
        # Weights on each axis sum to 2048 (or 2049 where float32 rounds 1 - f), so the mix stays in 0..255.
        out[start:stop] = upper
    return out.reshape((height, width) + source.shape[2:])


def _fixed_point_taps(source_size: int, target_size: int, clamp: bool):
    scale = 1.0 / (target_size / source_size)  # OpenCV's scale_x = 1 / inv_scale_x
    position = ((np.arange(target_size) + 0.5) * scale - 0.5).astype(np.float32)
    left = np.floor(position).astype(np.int64)
    fraction = (position - left.astype(np.float32)).astype(np.float32)
    if clamp:
        before, after = left < 0, left >= source_size - 1
        fraction[before | after] = 0
        left[before], left[after] = 0, source_size - 1
    right_weight = np.rint(fraction * np.float32(_RESIZE_COEF_SCALE)).astype(np.int64)
    left_weight = np.rint((np.float32(1) - fraction) * np.float32(_RESIZE_COEF_SCALE)).astype(np.int64)
    return (np.clip(left, 0, source_size - 1), np.clip(left + 1, 0, source_size - 1), left_weight, right_weight)


def crop_quad(image: np.ndarray, quad: np.ndarray) -> np.ndarray | None:
    """Rectify the quadrilateral (TL, TR, BR, BL) of an (H, W[, C]) uint8 array into an upright array.

    PP-OCR's `get_rotate_crop_image` as RapidOCR runs it: the output is as wide and tall as
    the quad's longer opposite sides, its corners (0, 0), (w, 0), (w, h), (0, h) map to the
    quad's by a perspective transform, samples are bicubic (A = -0.75) with the border
    replicated, and a crop at least 1.5 times taller than wide is turned 90° counter-clockwise
    (vertical text). This is OpenCV's `warpPerspective(INTER_CUBIC, BORDER_REPLICATE)`:
    Pillow's QUAD transform (corner-based pixels, A = -0.5, black border) moved the
    recogniser's confidences by up to 0.1 and changed texts (issue 13). Returns None for a
    degenerate quad.
    """
    quad = np.asarray(quad, dtype=np.float32)
    width, height = _crop_size(quad)
    if width < 1 or height < 1:
        return None
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    crop = warp_perspective_cubic(image, perspective_transform(corners, quad), width, height)
    if height / width >= _STANDING_CROP_RATIO:
        crop = np.rot90(crop)
    return np.ascontiguousarray(crop)


def crop_read_along(quad: np.ndarray) -> np.ndarray:
    """The direction in the image along which `crop_quad`'s crop of `quad` runs left to
    right: the quad's first edge (TL to TR), or, for a crop turned a quarter because it
    stands, its TL to BL edge."""
    quad = np.asarray(quad, dtype=np.float32)
    width, height = _crop_size(quad)
    standing = width >= 1 and height / width >= _STANDING_CROP_RATIO
    return (quad[3] - quad[0] if standing else quad[1] - quad[0]).astype(np.float64)


def _crop_size(quad: np.ndarray) -> tuple[int, int]:
    """`crop_quad`'s output width and height: float32 lengths, truncated, as the reference
    computes them (29.9999 is 29 wide)."""
    width = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
    height = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    return width, height


def perspective_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 3x3 homography mapping each of 4 `source` points onto its `target` point."""
    system = np.zeros((8, 8))
    values = np.zeros(8)
    for index, ((x, y), (u, v)) in enumerate(zip(np.asarray(source, np.float64), np.asarray(target, np.float64))):
        system[index] = (x, y, 1, 0, 0, 0, -x * u, -y * u)
        system[index + 4] = (0, 0, 0, x, y, 1, -x * v, -y * v)
        values[index], values[index + 4] = u, v
    return np.append(np.linalg.solve(system, values), 1.0).reshape(3, 3)


def warp_perspective_cubic(image: np.ndarray, to_source: np.ndarray, width: int, height: int) -> np.ndarray:
    """A `height` x `width` uint8 array whose pixel (x, y) samples `image` at `to_source` @
    (x, y, 1), bicubically (OpenCV's A = -0.75 kernel, border replicated), rounded to even.

    Within one grey level of `cv2.warpPerspective(..., INTER_CUBIC, BORDER_REPLICATE)` (4.x
    and 5.x) on all but a few pixels in ten thousand (tests/unit/test_ocr_geometry.py).
    """
    source = np.asarray(image)
    m = np.asarray(to_source, dtype=np.float64).ravel()
    if m[1] == 0 and m[3] == 0 and m[6] == 0 and m[7] == 0:
        return _warp_upright(source, m, width, height)
    return _warp_any(source, m, width, height)


def _warp_any(source: np.ndarray, m: np.ndarray, width: int, height: int) -> np.ndarray:
    """`warp_perspective_cubic` for any transform `m` (9 values, row by row), pixel by pixel."""
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float64)
    scale = m[6] * columns + m[7] * rows + m[8]
    xs = (m[0] * columns + m[1] * rows + m[2]) / scale
    ys = (m[3] * columns + m[4] * rows + m[5]) / scale
    source_h, source_w = source.shape[:2]
    x_taps, x_index = _cubic_taps(xs, source_w)
    y_taps, y_index = _cubic_taps(ys, source_h)
    data = source.reshape(source_h, source_w, -1).astype(np.float32)
    total = np.zeros((height, width, data.shape[2]), dtype=np.float64)
    for i in range(4):
        row = sum(data[y_index[..., i], x_index[..., k]] * x_taps[..., k, None] for k in range(4))
        total += row * y_taps[..., i, None]
    result = np.clip(np.rint(total), 0, 255).astype(np.uint8)
    return result.reshape((height, width) + source.shape[2:])


def _warp_upright(source: np.ndarray, m: np.ndarray, width: int, height: int) -> np.ndarray:
    """`warp_perspective_cubic` for a transform without rotation, shear or perspective (an
    upright box: about half the crops of a page): each output column samples one source x
    and each row one source y, so positions and weights are computed once per column and
    row and each source row's horizontal mix once. The same float operations on the same
    values as the general path (its zero terms add exact zeros), so the same pixels."""
    columns, rows = np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64)
    xs, ys = (m[0] * columns + m[2]) / m[8], (m[4] * rows + m[5]) / m[8]
    source_h, source_w = source.shape[:2]
    x_taps, x_index = _cubic_taps(xs, source_w)
    y_taps, y_index = _cubic_taps(ys, source_h)
    rows_read, where = np.unique(y_index, return_inverse=True)
    where = where.reshape(height, 4)
    picked = source.reshape(source_h, source_w, -1)[rows_read].astype(np.float32)
    mixed = sum(picked[:, x_index[:, k]] * x_taps[:, k, None] for k in range(4))
    total = np.zeros((height, width, picked.shape[2]), dtype=np.float64)
    for i in range(4):
        total += mixed[where[:, i]] * y_taps[:, i, None, None]
    result = np.clip(np.rint(total), 0, 255).astype(np.uint8)
    return result.reshape((height, width) + source.shape[2:])


def _cubic_taps(positions: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """For source positions along one axis of `size` pixels: the (..., 4) bicubic weights and
    the indices of their taps (offsets -1..2 from the floor, the border replicated)."""
    floor = np.floor(positions)
    index = np.clip(floor.astype(np.int64)[..., None] + np.arange(-1, 3), 0, size - 1)
    return _cubic_weights((positions - floor).astype(np.float32)), index


def _cubic_weights(fraction: np.ndarray) -> np.ndarray:
    """OpenCV's `interpolateCubic` (A = -0.75) in float32: (..., 4) weights of the taps at
    offsets -1, 0, 1, 2 from the sample's floor."""
    a, one = np.float32(-0.75), np.float32(1)
    x = fraction.astype(np.float32)
    w0 = ((a * (x + one) - np.float32(5) * a) * (x + one) + np.float32(8) * a) * (x + one) - np.float32(4) * a
    w1 = ((a + np.float32(2)) * x - (a + np.float32(3))) * x * x + one
    w2 = ((a + np.float32(2)) * (one - x) - (a + np.float32(3))) * (one - x) * (one - x) + one
    return np.stack([w0, w1, w2, one - w0 - w1 - w2], axis=-1)


def offset_polygon_round(polygon: np.ndarray, distance: float) -> np.ndarray:
    """The integer outline of a closed polygon grown by `distance` with round joins: Clipper
    6.4's `ClipperOffset` (JT_ROUND, ET_CLOSEDPOLYGON, arc tolerance 0.25) as DB's "unclip"
    calls it through pyclipper, vertex for vertex before its final union (which, for the
    convex boxes DB grows, only drops points on straight edges: the same minimum-area
    rectangle). Vertices are truncated to integers first, as pyclipper does. (k, 2) int64;
    empty when fewer than 3 distinct vertices remain or `distance` is not positive."""
    points = [(int(x), int(y)) for x, y in np.trunc(np.asarray(polygon, dtype=np.float64))]
    while len(points) > 1 and points[0] == points[-1]:
        points.pop()
    contour = [points[0]] if points else []
    for point in points[1:]:
        if point != contour[-1]:
            contour.append(point)
    if len(contour) < 3 or distance <= 0:
        return np.zeros((0, 2), dtype=np.int64)
    if _clipper_area(contour) < 0:  # Clipper offsets counter-clockwise (in its y-up sense) paths
        contour.reverse()
    tolerance = min(0.25, distance * 0.25)
    steps = np.pi / np.arccos(1 - tolerance / distance)
    steps = min(steps, distance * np.pi)
    step_sin, step_cos = np.sin(2 * np.pi / steps), np.cos(2 * np.pi / steps)
    steps_per_radian = steps / (2 * np.pi)
    normals = [_unit_normal(contour[j], contour[(j + 1) % len(contour)]) for j in range(len(contour))]
    outline = []
    previous = len(contour) - 1
    for j, (x, y) in enumerate(contour):
        (kx, ky), (jx, jy) = normals[previous], normals[j]
        sin_a = kx * jy - jx * ky
        if abs(sin_a * distance) < 1.0 and kx * jx + ky * jy > 0:  # (nearly) straight on
            outline.append((_clipper_round(x + kx * distance), _clipper_round(y + ky * distance)))
            previous = j
            continue
        sin_a = min(1.0, max(-1.0, sin_a))
        if sin_a * distance < 0:  # a concave vertex
            outline += [(_clipper_round(x + kx * distance), _clipper_round(y + ky * distance)), (x, y),
                        (_clipper_round(x + jx * distance), _clipper_round(y + jy * distance))]
        else:
            angle = np.arctan2(sin_a, kx * jx + ky * jy)
            nx, ny = kx, ky
            for _ in range(max(_clipper_round(steps_per_radian * abs(angle)), 1)):
                outline.append((_clipper_round(x + nx * distance), _clipper_round(y + ny * distance)))
                nx, ny = nx * step_cos - step_sin * ny, nx * step_sin + ny * step_cos
            outline.append((_clipper_round(x + jx * distance), _clipper_round(y + jy * distance)))
        previous = j
    return np.array(outline, dtype=np.int64)


def _clipper_area(path) -> float:
    total = 0.0
    for (x0, y0), (x1, y1) in zip([path[-1], *path[:-1]], path):
        total += (float(x0) + x1) * (float(y0) - y1)
    return -total * 0.5


def _unit_normal(start, end) -> tuple[float, float]:
    if start == end:
        return 0.0, 0.0
    dx, dy = float(end[0] - start[0]), float(end[1] - start[1])
    scale = 1.0 / np.sqrt(dx * dx + dy * dy)
    return dy * scale, -dx * scale


def _clipper_round(value: float) -> int:
    """Clipper's Round: halves away from zero."""
    return int(value - 0.5) if value < 0 else int(value + 0.5)
