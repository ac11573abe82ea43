"""NumPy reference kernels: the specification of every kernel, written to be read.

Each function here has a twin of the same name and signature in `jit.py`.
"""
import math

import numpy as np


def erf(x):
    """The error function, elementwise, in float64 (NumPy has none; math.erf is libm's).

    Shapes: x (any) -> same shape, float64.
    """
    return np.vectorize(math.erf, otypes=[np.float64])(x)


# --- normalisation (ops/norm.py): x is viewed as (A, K, B), statistics over axes 0 and 2 ---
# The parameters are a table (Kp, Bp), Kp dividing K and Bp dividing B: row r = a*K + k of the
# (A*K, B) rows of x uses table row r % Kp, and element b of a row uses entry b // (B / Bp),
# so each entry covers a run of B / Bp consecutive elements. BatchNorm and InstanceNorm have
# one entry per row (Bp = 1), LayerNorm one per element (Bp = B), GroupNorm one per channel
# (Bp = C/G channels of H*W elements each).

def norm_moments(x):
    """Mean and biased variance of each of the K slices of x, in float64.

    Two passes (the mean, then the mean square of x - mean): the one-pass E[x^2] - E[x]^2
    cancels catastrophically when the mean is large against the spread.
    Shapes: x (A, K, B) -> mean (K,), var (K,).
    """
    mean = x.mean(axis=(0, 2), dtype=np.float64)
    centered = x - mean[:, None]  # (A, K, B), float64
    return mean, np.mean(centered * centered, axis=(0, 2))


def _by_table_entry(x, table_shape):
    """x (A, K, B) as (A*K / Kp, Kp, Bp, B / Bp): element b of row r = a*K + k of x's (A*K, B)
    rows, which uses table entry (r % Kp, b // (B / Bp)), lands at
    [r // Kp, r % Kp, b // (B / Bp), b % (B / Bp)], so a table (Kp, Bp) broadcasts against it
    as (Kp, Bp, 1)."""
    n_rows, n_entries = table_shape
    run = x.shape[2] // n_entries if n_entries else 0  # Bp = 0 only if B = 0
    return x.reshape(x.shape[0] * x.shape[1] // max(n_rows, 1), n_rows, n_entries, run)


def norm_affine(x, mean, rstd, weight, bias):
    """y = x_hat * weight + bias with x_hat = (x - mean[k]) * rstd[k] for every slice k, each
    element taking the table entry of its row and run.

    Shapes: x (A, K, B), mean and rstd (K,), weight and bias (Kp, Bp), in x's dtype -> y like x.
    """
    x_hat = (x - mean[:, None]) * rstd[:, None]  # (A, K, B)
    y = _by_table_entry(x_hat, weight.shape) * weight[..., None] + bias[..., None]
    return y.reshape(x.shape)


def normalize_affine(x, weight, bias, eps):
    """A normalisation's forward: the moments of each slice, then norm_affine with
    rstd = 1 / sqrt(var + eps). The statistics stay float64; the affine step runs in x's dtype.

    Shapes: x (A, K, B), weight and bias (Kp, Bp) in x's dtype -> y like x, mean (K,), var (K,).
    """
    mean, var = norm_moments(x)
    rstd = 1.0 / np.sqrt(var + eps)
    return norm_affine(x, mean.astype(x.dtype), rstd.astype(x.dtype), weight, bias), mean, var


def norm_affine_backward(grad, x, mean, rstd, weight):
    """The gradients of norm_affine, through the statistics: with x_hat as there and
    g_hat = g * weight, dx = (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)) * rstd, means
    over axes 0 and 2 per slice k; dweight and dbias are the sums of g * x_hat and of g over the
    elements that share a table entry (the adjoint of broadcasting is a sum), in float64.

    Shapes: grad, x (A, K, B), mean and rstd (K,), weight (Kp, Bp), in grad's dtype
    -> dx (A, K, B), dweight, dbias (Kp, Bp).
    """
    x_hat = (x - mean[:, None]) * rstd[:, None]  # (A, K, B)
    grad_entries = _by_table_entry(grad, weight.shape)  # (A*K / Kp, Kp, Bp, B / Bp)
    shared = (0, 3)  # the axes along which one entry repeats
    dweight = np.sum(grad_entries * _by_table_entry(x_hat, weight.shape), axis=shared,
                     dtype=np.float64)
    dbias = np.sum(grad_entries, axis=shared, dtype=np.float64)
    g_hat = (grad_entries * weight[..., None]).reshape(grad.shape)  # (A, K, B)
    mean_g = g_hat.mean(axis=(0, 2), keepdims=True, dtype=np.float64)
    mean_gx = np.mean(g_hat * x_hat, axis=(0, 2), keepdims=True, dtype=np.float64)
    dx = (g_hat - mean_g.astype(grad.dtype)) - x_hat * mean_gx.astype(grad.dtype)
    return dx * rstd[:, None], dweight, dbias


def scale_shift(x, weight, bias):
    """y[a, p, b] = x[a, p, b] * weight[p] + bias[p]: a normalisation layer's affine step.

    Shapes: x (A, P, B), weight and bias (P,) in x's dtype -> y (A, P, B).
    """
    return x * weight[:, None] + bias[:, None]


def scale_shift_backward(grad, x, weight):
    """The gradients of scale_shift: dx = g * weight[p]; dweight[p] and dbias[p] are the sums
    of g * x and of g over axes 0 and 2 (the adjoint of broadcasting is a sum), in float64.

    Shapes: grad, x (A, P, B), weight (P,) -> dx (A, P, B) in grad's dtype, dweight, dbias (P,).
    """
    dx = grad * weight[:, None]
    dweight = np.sum(grad * x, axis=(0, 2), dtype=np.float64)
    dbias = np.sum(grad, axis=(0, 2), dtype=np.float64)
    return dx, dweight, dbias


# --- convolution: im2col / col2im and the direct depthwise kernels ----------------------
# Geometry, shared by every convolution kernel: output pixel (oh, ow) of a kernel of size
# (kH, kW) reads input pixel (oh*sH - pH + i*dH, ow*sW - pW + j*dW) at kernel offset (i, j);
# pixels outside the input read as zero. `padding` is the (top, left) padding only: the
# bottom and right padding follow from the output size, which is why the output arrays
# are passed in (this also covers PyTorch's asymmetric "same" padding and output_padding).

def _padded_zeros(x_shape, out_size, kernel, stride, padding, dilation, dtype):
    """Zeros big enough for the input placed at (pH, pW) and for every window read."""
    (N, C, H, W), (Ho, Wo), (kH, kW) = x_shape, out_size, kernel
    height = max(padding[0] + H, (Ho - 1) * stride[0] + (kH - 1) * dilation[0] + 1)
    width = max(padding[1] + W, (Wo - 1) * stride[1] + (kW - 1) * dilation[1] + 1)
    return np.zeros((N, C, height, width), dtype)


def _interior(padded, padding, x_shape):
    """The view of `padded` where the unpadded (N, C, H, W) input sits."""
    top, left = padding
    return padded[:, :, top:top + x_shape[2], left:left + x_shape[3]]


def _window(padded, i, j, out_size, stride, dilation):
    """The (N, C, Ho, Wo) strided view of `padded` read at kernel offset (i, j)."""
    (Ho, Wo), (sH, sW) = out_size, stride
    top, left = i * dilation[0], j * dilation[1]
    return padded[:, :, top:top + (Ho - 1) * sH + 1:sH, left:left + (Wo - 1) * sW + 1:sW]


def im2col(x, cols, stride, padding, dilation):
    """Copy every receptive field of `x` into `cols`, in place (Caffe's layout).

    cols[n, c, i, j, oh, ow] = x[n, c, oh*sH - pH + i*dH, ow*sW - pW + j*dW] (0 outside x).
    Reshaped to (N, C*kH*kW, Ho*Wo), one GEMM with the (Cout, C*kH*kW) weight is the conv.
    Shapes: x (N, C, H, W), cols (N, C, kH, kW, Ho, Wo).
    """
    kernel, out_size = cols.shape[2:4], cols.shape[4:]
    padded = _padded_zeros(x.shape, out_size, kernel, stride, padding, dilation, x.dtype)
    _interior(padded, padding, x.shape)[...] = x
    # one strided slice per kernel offset: kH*kW copies of the whole batch
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            cols[:, :, i, j] = _window(padded, i, j, out_size, stride, dilation)


def col2im(cols, x, stride, padding, dilation):
    """The adjoint of im2col, in place: x = the sum of the entries of `cols` read from each pixel.

    Overwrites x. <im2col(x), cols> == <x, col2im(cols)> for all x and cols.
    Shapes: cols (N, C, kH, kW, Ho, Wo), x (N, C, H, W).
    """
    kernel, out_size = cols.shape[2:4], cols.shape[4:]
    padded = _padded_zeros(x.shape, out_size, kernel, stride, padding, dilation, x.dtype)
    # For one offset (i, j) the windows of distinct outputs hit distinct pixels, so a
    # slice-add is exact; np.add.at over all offsets at once is ~6x slower.
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            _window(padded, i, j, out_size, stride, dilation)[...] += cols[:, :, i, j]
    x[...] = _interior(padded, padding, x.shape)


def depthwise_conv2d(x, weight, out, stride, padding, dilation):
    """Depthwise convolution (groups == C), direct: no columns, M = Cout/C filters per channel.

    out[n, o, oh, ow] = sum_ij weight[o, 0, i, j] * x[n, o // M, oh*sH - pH + i*dH, ...].
    Shapes: x (N, C, H, W), weight (C*M, 1, kH, kW), out (N, C*M, Ho, Wo), filled in place.
    """
    kernel, out_size = weight.shape[2:], out.shape[2:]
    M = weight.shape[0] // x.shape[1]
    padded = _padded_zeros(x.shape, out_size, kernel, stride, padding, dilation, x.dtype)
    _interior(padded, padding, x.shape)[...] = x
    padded = np.repeat(padded, M, axis=1)  # (N, C*M, Hp, Wp): output channel o reads o // M
    out[...] = 0
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            tap = weight[:, 0, i, j, None, None]  # (C*M, 1, 1)
            out += tap * _window(padded, i, j, out_size, stride, dilation)


def depthwise_conv2d_input_grad(grad, weight, dx, stride, padding, dilation):
    """The adjoint of depthwise_conv2d in x: scatter each output's gradient onto its window.

    dx[n, c] = sum over the M filters of channel c and offsets (i, j) of weight * grad.
    Shapes: grad (N, C*M, Ho, Wo), weight (C*M, 1, kH, kW), dx (N, C, H, W), overwritten.
    """
    kernel, out_size = weight.shape[2:], grad.shape[2:]
    N, C = dx.shape[:2]
    padded = _padded_zeros(dx.shape, out_size, kernel, stride, padding, dilation, dx.dtype)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            tapped = grad * weight[:, 0, i, j, None, None]  # (N, C*M, Ho, Wo)
            per_channel = tapped.reshape(N, C, -1, *out_size).sum(axis=2)  # (N, C, Ho, Wo)
            _window(padded, i, j, out_size, stride, dilation)[...] += per_channel
    dx[...] = _interior(padded, padding, dx.shape)


def depthwise_conv2d_weight_grad(x, grad, dweight, stride, padding, dilation):
    """The adjoint of depthwise_conv2d in the weight: correlate each input with its gradients.

    dweight[o, 0, i, j] = sum over n, oh, ow of grad[n, o, oh, ow] * x[n, o // M, ...] read
    at the pixel depthwise_conv2d reads.
    Shapes: x (N, C, H, W), grad (N, C*M, Ho, Wo), dweight (C*M, 1, kH, kW), overwritten.
    """
    kernel, out_size = dweight.shape[2:], grad.shape[2:]
    M = dweight.shape[0] // x.shape[1]
    padded = _padded_zeros(x.shape, out_size, kernel, stride, padding, dilation, x.dtype)
    _interior(padded, padding, x.shape)[...] = x
    padded = np.repeat(padded, M, axis=1)  # (N, C*M, Hp, Wp)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            window = _window(padded, i, j, out_size, stride, dilation)
            dweight[:, 0, i, j] = np.einsum("nohw,nohw->o", grad, window)


# --- vision: non-maximum suppression, ROI Pool, ROI Align (minigrad/vision) ----------------
# Boxes are (x1, y1, x2, y2) in float64; `batch_index[k]` is the image box k belongs to.

def nms_keep(boxes, order, classes, iou_threshold):
    """Greedy non-maximum suppression; the indices of the kept boxes, in visiting order.

    Visit the boxes in `order` (decreasing score); keep a box unless an already kept box
    of the same class overlaps it with IoU > iou_threshold (strictly). A pair whose union
    is 0 (two zero-area boxes) has IoU 0: 0/0 is read as "no overlap".
    Shapes: boxes (N, 4), order (N,) int64, classes (N,) int64 -> (n_kept,) int64.
    """
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    keep = []
    remaining = order
    while remaining.size:
        best, rest = remaining[0], remaining[1:]
        keep.append(best)
        width = np.maximum(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0)
        height = np.maximum(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0)
        inter = width * height
        union = areas[best] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        suppressed = (iou > iou_threshold) & (classes[rest] == classes[best])
        remaining = rest[~suppressed]
    return np.array(keep, dtype=np.int64)


def _round_half_away(value):
    """C's round(): halves go away from zero (np.round would go to the even neighbour)."""
    return math.copysign(math.floor(abs(value) + 0.5), value)


def roi_pool_forward(x, batch_index, boxes, pooled_h, pooled_w, spatial_scale):
    """ROI Pool: the max over each of pooled_h x pooled_w bins of each box, and where it was.

    The scaled box corners are rounded to pixels and the box covers the pixels from its
    start to its end INCLUSIVE (so at least 1 x 1). Bin (ph, pw) covers rows
    [floor(ph * bin_h), ceil((ph + 1) * bin_h)) from the box start, clipped to the map; an
    empty bin gives 0 and argmax -1. Ties go to the first pixel in row-major order; a NaN
    wins only as a bin's first pixel.
    Shapes: x (N, C, H, W), batch_index (K,), boxes (K, 4) -> out (K, C, pooled_h, pooled_w)
    of x's dtype, argmax (K, C, pooled_h, pooled_w) int64 flat positions h * W + w.
    """
    _, channels, height, width = x.shape
    n_boxes = len(boxes)
    out = np.zeros((n_boxes, channels, pooled_h, pooled_w), x.dtype)
    argmax = np.full((n_boxes, channels, pooled_h, pooled_w), -1, np.int64)
    every_channel = np.arange(channels)
    for k in range(n_boxes):
        start_w, start_h, end_w, end_h = (int(_round_half_away(v * spatial_scale))
                                          for v in boxes[k])
        bin_h = max(end_h - start_h + 1, 1) / pooled_h
        bin_w = max(end_w - start_w + 1, 1) / pooled_w
        for ph in range(pooled_h):
            h0 = min(max(start_h + math.floor(ph * bin_h), 0), height)
            h1 = min(max(start_h + math.ceil((ph + 1) * bin_h), 0), height)
            for pw in range(pooled_w):
                w0 = min(max(start_w + math.floor(pw * bin_w), 0), width)
                w1 = min(max(start_w + math.ceil((pw + 1) * bin_w), 0), width)
                if h1 <= h0 or w1 <= w0:
                    continue
                window = x[batch_index[k], :, h0:h1, w0:w1]
                window = window.reshape(channels, (h1 - h0) * (w1 - w0))  # (C, bin), C >= 0
                # torchvision scans with `if value > best`, so a NaN never wins unless it is
                # the first pixel, and then nothing beats it
                first = np.where(np.isnan(window), -np.inf, window).argmax(axis=1)
                first[np.isnan(window[:, 0])] = 0
                out[k, :, ph, pw] = window[every_channel, first]
                row, col = np.divmod(first, w1 - w0)
                argmax[k, :, ph, pw] = (h0 + row) * width + w0 + col
    return out, argmax


def roi_pool_backward(grad, argmax, batch_index, input_shape):
    """Send each output's gradient to the pixel that was its max (empty bins send nothing).

    Shapes: grad, argmax (K, C, ph, pw), batch_index (K,) -> (N, C, H, W) of grad's dtype.
    """
    n, channels, height, width = input_shape
    grad_x = np.zeros((n, channels, height * width), grad.dtype)
    found = argmax >= 0
    k, c, _, _ = np.nonzero(found)
    # one pixel can be the max of several bins and boxes: accumulate, never overwrite
    np.add.at(grad_x, (batch_index[k], c, argmax[found]), grad[found])
    return grad_x.reshape(input_shape)


def _roi_align_axis(start, bin_size, n_bins, grid, size):
    """One axis of ROI Align's sampling: for every sample, its two neighbouring pixels, their
    linear weights, and whether it is kept.

    Bin p has `grid` samples at start + p * bin_size + (i + 0.5) * bin_size / grid, listed
    bin by bin. A sample outside [-1, size] is dropped; otherwise it is clamped into
    [0, size - 1] and split between pixels low and low + 1 with weights 1 - frac and frac
    (past the last pixel centre all weight is on the last pixel).
    Shapes: -> taps (n_bins * grid, 2) int64, weights (n_bins * grid, 2), kept (n_bins * grid,).
    """
    grid = max(grid, 0)  # an empty box with adaptive sampling takes no samples
    coords = (start + np.arange(n_bins)[:, None] * bin_size
              + (np.arange(grid) + 0.5) * bin_size / grid).reshape(-1)  # (n_bins * grid,)
    kept = (coords >= -1.0) & (coords <= size)
    coords = np.clip(coords, 0.0, size)  # a dropped sample is clamped too, then ignored
    low = np.minimum(np.floor(coords).astype(np.int64), size - 1)
    high = np.minimum(low + 1, size - 1)
    frac = np.where(high > low, coords - low, 0.0)
    return np.stack([low, high], axis=1), np.stack([1.0 - frac, frac], axis=1), kept


def _roi_align_samples(box, height, width, pooled_h, pooled_w, spatial_scale,
                       sampling_ratio, aligned):
    """The sampling grid of one box, one axis at a time (a sample's bilinear weight is its
    row weight times its column weight, and it is dropped if either coordinate is outside).

    Returns (rows, cols, grid_h, grid_w, count): rows and cols as _roi_align_axis gives them,
    grid_h x grid_w samples per bin, `count` the divisor of each bin's average.
    """
    offset = 0.5 if aligned else 0.0  # aligned: pixel centres sit at integer + 0.5
    x1, y1, x2, y2 = (v * spatial_scale - offset for v in box)
    roi_w, roi_h = x2 - x1, y2 - y1
    if not aligned:  # legacy behaviour: a malformed box is stretched to 1 x 1
        roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
    bin_h, bin_w = roi_h / pooled_h, roi_w / pooled_w
    grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / pooled_h)
    grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / pooled_w)
    rows = _roi_align_axis(y1, bin_h, pooled_h, grid_h, height)
    cols = _roi_align_axis(x1, bin_w, pooled_w, grid_w, width)
    return rows, cols, max(grid_h, 0), max(grid_w, 0), max(grid_h * grid_w, 1)


def _roi_align_corners(rows, cols):
    """The four bilinear corners (a, b) of every sample: row tap a and column tap b, as
    (rows, cols, weights) broadcasting to (samples along H, samples along W), the weight 0
    where the sample is dropped."""
    (row_taps, row_weights, row_kept), (col_taps, col_weights, col_kept) = rows, cols
    kept = row_kept[:, None] & col_kept[None, :]
    for a in range(2):
        for b in range(2):
            yield (row_taps[:, a, None], col_taps[None, :, b],
                   np.where(kept, row_weights[:, a, None] * col_weights[None, :, b], 0.0), kept)


def roi_align_forward(x, batch_index, boxes, pooled_h, pooled_w, spatial_scale,
                      sampling_ratio, aligned):
    """ROI Align: the average of bilinearly interpolated samples in each bin of each box.

    A sample reads its four neighbouring pixels only, and a dropped sample reads nothing,
    so a NaN in the map reaches only the bins that sample next to it.
    Shapes: x (N, C, H, W), batch_index (K,), boxes (K, 4) -> (K, C, pooled_h, pooled_w).
    """
    _, channels, height, width = x.shape
    out = np.zeros((len(boxes), channels, pooled_h, pooled_w), x.dtype)
    for k, box in enumerate(boxes):
        rows, cols, grid_h, grid_w, count = _roi_align_samples(
            box, height, width, pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned)
        image = x[batch_index[k]]  # (C, H, W)
        samples = 0.0
        for row, col, weight, kept in _roi_align_corners(rows, cols):
            samples = samples + np.where(kept, weight * image[:, row, col], 0.0)  # (C, h, w)
        per_bin = samples.reshape(channels, pooled_h, grid_h, pooled_w, grid_w)
        out[k] = per_bin.sum(axis=(2, 4)) / count
    return out


def roi_align_backward(grad, batch_index, boxes, input_shape, spatial_scale, sampling_ratio,
                       aligned):
    """The adjoint of roi_align_forward: each bin's gradient / count goes to the four
    pixels of each of its kept samples, with the same bilinear weights.

    Shapes: grad (K, C, ph, pw), batch_index (K,), boxes (K, 4) -> (N, C, H, W).
    """
    _, channels, height, width = input_shape
    _, _, pooled_h, pooled_w = grad.shape
    grad_x = np.zeros(input_shape, grad.dtype)
    for k, box in enumerate(boxes):
        rows, cols, grid_h, grid_w, count = _roi_align_samples(
            box, height, width, pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned)
        per_sample = np.repeat(np.repeat(grad[k] / count, grid_h, axis=1), grid_w, axis=2)
        for row, col, weight, kept in _roi_align_corners(rows, cols):
            row, col = np.broadcast_arrays(row, col)
            # several samples share a pixel: accumulate, never overwrite
            np.add.at(grad_x[batch_index[k]], (slice(None), row[kept], col[kept]),
                      (weight * per_sample)[:, kept])
    return grad_x


# --- pooling, unpooling and resampling (ops/pool.py, ops/resample.py) ----------------------
# A window or an interpolation reads, per axis, the input indices in a taps table
# (out, T); -1 marks a tap that reads nothing. Max pooling reads the same windows as a
# start and a length per output (ops/pool.py, window_spans). Planes are flattened:
# position h*W + w.

def window_max(x, start_h, length_h, start_w, length_w, dilation):
    """The maximum of each window and its flat position h*W + w in the plane: the first
    maximum in row-by-row scan order on ties, a NaN over numbers (the last NaN scanned), and
    a window of -inf keeps its first position, as PyTorch.

    Window (oh, ow) is the part of a pooling window inside the input: rows
    start_h[oh] + a*D_h for a < length_h[oh], columns likewise.
    Shapes: x (N, C, H, W), start_h and length_h (Ho,), start_w and length_w (Wo,)
    -> values (N, C, Ho, Wo) of x's dtype, positions (N, C, Ho, Wo) int64.
    """
    N, C, H, W = x.shape
    d_h, d_w = dilation
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min  # integers: no -inf
    best = np.full((N, C, len(start_h), len(start_w)), lowest, dtype=x.dtype)
    winner = np.broadcast_to(start_h[:, None] * W + start_w, best.shape).copy()  # (N, C, Ho, Wo)
    for a in range(length_h.max()):
        rows = start_h + a * d_h  # (Ho,): row a of every window
        for b in range(length_w.max()):
            cols = start_w + b * d_w  # (Wo,)
            inside = (a < length_h)[:, None] & (b < length_w)[None, :]  # (Ho, Wo)
            # clipped reads stand in for taps past a window's end; `inside` discards them
            values = x[:, :, np.minimum(rows, H - 1)][:, :, :, np.minimum(cols, W - 1)]
            wins = inside & ((values > best) | np.isnan(values))
            best = np.where(wins, values, best)
            winner = np.where(wins, rows[:, None] * W + cols[None, :], winner)
    return best, winner


def gather_planes(x, indices):
    """out[n, c].flat[i] = x[n, c].flat[indices[n, c].flat[i]].

    Shapes: x (N, C, H, W), indices (N, C, h, w) -> (N, C, h, w).
    """
    N, C = x.shape[:2]
    flat = np.take_along_axis(x.reshape(N, C, -1), indices.reshape(N, C, -1), axis=2)  # (N, C, h*w)
    return flat.reshape(indices.shape)


def scatter_planes(values, indices, height, width, accumulate):
    """Zeros of (N, C, height, width) with values[n, c].flat[i] put at indices[n, c].flat[i],
    added up where indices repeat (`accumulate`, the adjoint of the gather) or written once.

    Shapes: values, indices (N, C, h, w) -> (N, C, height, width).
    """
    N, C = values.shape[:2]
    out = np.zeros((N * C, height * width), dtype=values.dtype)
    rows = np.arange(N * C)[:, None]  # (N*C, 1): one row per plane
    columns = indices.reshape(N * C, -1)  # (N*C, h*w)
    if accumulate:
        np.add.at(out, (rows, columns), values.reshape(N * C, -1))
    else:
        out[rows, columns] = values.reshape(N * C, -1)
    return out.reshape(N, C, height, width)


def _gather_first_axis(x, taps, weights):
    """out[o] = sum over the taps t of row o of weights[o, t] * x[taps[o, t]], along axis 0.

    Each output reads its taps only (a -1 tap reads nothing), so a NaN or infinity in x
    reaches only the outputs whose taps read it: a dense (out, size) matrix product would
    multiply it by the zeros of every other row and spread NaN over the whole plane.
    Shapes: x (size, *rest), taps and weights (out, T) -> (out, *rest).
    """
    out = np.zeros(taps.shape[:1] + x.shape[1:], dtype=x.dtype)
    spread = (slice(None),) + (None,) * (x.ndim - 1)  # weights[:, t] against (out, *rest)
    for t in range(taps.shape[1]):
        reads = taps[:, t] >= 0
        # a -1 tap reads the last row, and the mask then discards what it read
        out += np.where(reads[spread], weights[:, t][spread] * x[taps[:, t]], 0)
    return out


def _scatter_first_axis(grad, taps, weights, size):
    """The adjoint of _gather_first_axis: dx[taps[o, t]] += weights[o, t] * grad[o].

    Shapes: grad (out, *rest), taps and weights (out, T) -> (size, *rest).
    """
    dx = np.zeros((size,) + grad.shape[1:], dtype=grad.dtype)
    spread = (slice(None),) + (None,) * (grad.ndim - 1)
    for t in range(taps.shape[1]):
        reads = taps[:, t] >= 0
        # two outputs may read one input (clamped border taps): accumulate, never overwrite
        np.add.at(dx, taps[reads, t], weights[reads, t][spread] * grad[reads])
    return dx


def separable_map(x, taps_h, weights_h, taps_w, weights_w):
    """out[n, c] = A_h @ x[n, c] @ A_w^T with each axis's matrix A given by taps and weights:
    along the rows first, then along the columns (the order the JIT kernel sums in).

    Shapes: x (N, C, H, W), taps/weights_h (Ho, Th), taps/weights_w (Wo, Tw) -> (N, C, Ho, Wo).
    """
    rows = _gather_first_axis(np.moveaxis(x, 3, 0), taps_w, weights_w)  # (Wo, N, C, H)
    out = _gather_first_axis(np.moveaxis(rows, 3, 0), taps_h, weights_h)  # (Ho, Wo, N, C)
    return np.moveaxis(out, (0, 1), (2, 3))


def separable_map_transpose(grad, taps_h, weights_h, taps_w, weights_w, height, width):
    """The transposed map, dx[n, c] = A_h^T @ grad[n, c] @ A_w: each output's gradient sent
    back to the inputs it read, with the same weights.

    Shapes: grad (N, C, Ho, Wo) -> (N, C, height, width).
    """
    rows = _scatter_first_axis(np.moveaxis(grad, 2, 0), taps_h, weights_h, height)  # (H, N, C, Wo)
    dx = _scatter_first_axis(np.moveaxis(rows, 3, 0), taps_w, weights_w, width)  # (W, H, N, C)
    return np.moveaxis(dx, (0, 1), (3, 2))
