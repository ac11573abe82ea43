"""Numba kernels: the same names and signatures as `reference.py`, compiled with
`@njit(cache=True)` so a later process loads them from disk instead of compiling.

Threads: Numba's OpenMP layer spins after each parallel kernel while OpenBLAS spins after
each GEMM; on two cores alternating the two costs about 2x. The `workqueue` layer does
not spin, so it is chosen before any parallel kernel is compiled.
"""
import math

import numba
import numpy as np

numba.config.THREADING_LAYER = "workqueue"


@numba.njit(cache=True, parallel=True)
def _erf_flat(x):
    out = np.empty(x.size, dtype=np.float64)
    for i in numba.prange(x.size):
        out[i] = math.erf(x[i])
    return out


def erf(x):
    """The error function, elementwise, in float64 (see reference.erf)."""
    flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)  # (x.size,)
    return _erf_flat(flat).reshape(np.shape(x))


# --- normalisation (see reference.py: the (A, K, B) view and the (Kp, Bp) parameter table) ---
# The loops run over the rows (a, k) of the (A, K, B) view in memory order, so each thread
# streams through contiguous memory whatever the layout: walking one slice k of a BatchNorm
# input instead would jump between 4 KB rows, where the hardware prefetcher stops. When
# A = 1 (LayerNorm, InstanceNorm, GroupNorm) a slice is one contiguous row, and each kernel
# finishes a row while it is in cache: forward takes its moments and then writes y, backward
# takes its two sums and then writes dx. That reads the tensor from memory once per pass
# instead of twice. `reassoc` lets LLVM vectorise the float64 sums (otherwise each addition
# waits for the previous one); the order of additions differs from NumPy's pairwise sums,
# well within float tolerance. It is set on the functions that sum only, so that no
# elementwise formula is rearranged.

@numba.njit(cache=True, fastmath={"reassoc"})
def _shifted_sums(row, shift):
    """sum (row - shift) and sum (row - shift) ** 2 over one row, in float64."""
    total = 0.0
    total_sq = 0.0
    for b in range(row.shape[0]):
        d = row[b] - shift
        total += d
        total_sq += d * d
    return total, total_sq


@numba.njit(cache=True, parallel=True)
def _row_sums(x, shift):
    """sum_b (x[a, k, b] - shift[k]) ** p for p = 1 and 2, per row: two (A, K) arrays."""
    n_before, n_slices, _ = x.shape
    sums = np.empty((n_before, n_slices))
    squares = np.empty((n_before, n_slices))
    for row in numba.prange(n_before * n_slices):
        a, k = row // n_slices, row % n_slices
        sums[a, k], squares[a, k] = _shifted_sums(x[a, k], shift[k])
    return sums, squares


# One pass about a shift taken from the data, s = x[0, k, 0], instead of the reference's two:
# var = E[(x - s)^2] - (E[x - s])^2. Without the shift (s = 0) the difference cancels when
# the mean is large against the spread; with it, since s is one of the n values,
# (s - mean)^2 <= n var, so the difference loses at most log10(n + 1) digits.

@numba.njit(cache=True)
def _moments(shift, total, total_sq, count):
    """Mean and variance of `count` values from their sum and sum of squares about `shift`
    (numbers, or arrays of them); rounding can make a variance of 0 slightly negative."""
    mean_shifted = total / count
    return shift + mean_shifted, np.maximum(total_sq / count - mean_shifted * mean_shifted, 0.0)


def norm_moments(x):
    count = x.shape[0] * x.shape[2]
    if count == 0:  # no values: no statistics, NaN as the reference's mean of nothing
        return np.full(x.shape[1], np.nan), np.full(x.shape[1], np.nan)
    shift = x[0, :, 0].astype(np.float64)
    sums, squares = _row_sums(x, shift)
    return _moments(shift, sums.sum(axis=0), squares.sum(axis=0), count)


@numba.njit(cache=True, inline="always")
def _affine_row(row, center, scale, weight, bias, out):
    """out = (row - center) * scale * weight[e] + bias[e], entry e = b // (B / Bp) of the
    table row `weight`, `bias` (Bp,). With one entry per element the loop over elements runs
    alone: an inner loop of length 1 per element costs ~3x."""
    n_entries = weight.shape[0]
    if n_entries == row.shape[0]:
        for b in range(row.shape[0]):
            out[b] = (row[b] - center) * scale * weight[b] + bias[b]
        return
    run = row.shape[0] // n_entries
    for e in range(n_entries):
        w, shift = scale * weight[e], bias[e]
        part, out_part = row[e * run:(e + 1) * run], out[e * run:(e + 1) * run]
        for b in range(run):
            out_part[b] = (part[b] - center) * w + shift


@numba.njit(cache=True, parallel=True)
def norm_affine(x, mean, rstd, weight, bias):
    """y = x_hat * weight + bias, x_hat = (x - mean[k]) * rstd[k] (see reference.norm_affine)."""
    n_before, n_slices, n_after = x.shape
    rows = x.reshape(n_before * n_slices, n_after)  # (A*K, B)
    y = np.empty_like(rows)
    for r in numba.prange(rows.shape[0]):
        k, t = r % n_slices, r % weight.shape[0]
        _affine_row(rows[r], mean[k], rstd[k], weight[t], bias[t], y[r])
    return y.reshape(x.shape)


@numba.njit(cache=True, parallel=True)
def _normalize_rows(rows, weight, bias, eps):
    """normalize_affine when each slice is one row of `rows` (K, B): its moments (as
    norm_moments), then its affine step while the row is in cache."""
    n_slices, n_after = rows.shape
    y = np.empty_like(rows)
    mean, var = np.empty(n_slices), np.empty(n_slices)
    # the mean and rstd rounded to x's dtype, as the reference's affine step takes them
    center_scale = np.empty((n_slices, 2), rows.dtype)
    for k in numba.prange(n_slices):
        shift = np.float64(rows[k, 0])
        total, total_sq = _shifted_sums(rows[k], shift)
        mean[k], var[k] = _moments(shift, total, total_sq, n_after)
        center_scale[k, 0], center_scale[k, 1] = mean[k], 1.0 / math.sqrt(var[k] + eps)
        t = k % weight.shape[0]
        _affine_row(rows[k], center_scale[k, 0], center_scale[k, 1], weight[t], bias[t], y[k])
    return y, mean, var


def normalize_affine(x, weight, bias, eps):
    if x.shape[0] == 1 and x.shape[2] > 0:  # every slice one contiguous row: one pass
        y, mean, var = _normalize_rows(x[0], weight, bias, eps)
        return y.reshape(x.shape), mean, var
    mean, var = norm_moments(x)
    rstd = 1.0 / np.sqrt(var + eps)
    return norm_affine(x, mean.astype(x.dtype), rstd.astype(x.dtype), weight, bias), mean, var


# Backward, per row: the first pass sums g_hat and g_hat * x_hat; the second writes dx. Each
# adds into dweight and dbias where that is cheap: the first pass per run of a shared entry
# (its two sums are those of the run), the second per element when every element has its
# own entry, while the row is still in cache (in the first pass those float64 tables, 1 MB
# for LayerNorm over 64x32x32, pushed the row out of cache: 3.8 -> 3.55 ms).

@numba.njit(cache=True, fastmath={"reassoc"})
def _grad_sums_row(grad, x, center, scale, weight, dweight, dbias):
    """sum g_hat and sum g_hat * x_hat over one row (g_hat = g * weight); with runs longer
    than one element, also each run's sum g * x_hat and sum g added into its entry of dweight
    and dbias (Bp,)."""
    total_g = 0.0
    total_gx = 0.0
    n_entries = weight.shape[0]
    if n_entries == grad.shape[0]:  # one entry per element: dweight and dbias in _dx_row
        for b in range(grad.shape[0]):
            g_hat = grad[b] * weight[b]
            total_g += g_hat
            total_gx += g_hat * ((x[b] - center) * scale)
        return total_g, total_gx
    run = grad.shape[0] // n_entries
    for e in range(n_entries):
        g_part, x_part = grad[e * run:(e + 1) * run], x[e * run:(e + 1) * run]
        sum_g = 0.0
        sum_gx = 0.0
        for b in range(run):
            g = g_part[b]
            sum_g += g
            sum_gx += g * ((x_part[b] - center) * scale)
        dweight[e] += sum_gx
        dbias[e] += sum_g
        total_g += sum_g * weight[e]
        total_gx += sum_gx * weight[e]
    return total_g, total_gx


@numba.njit(cache=True)
def _dx_row(grad, x, center, scale, weight, mean_g_hat, mean_gx_hat, out, dweight, dbias):
    """out = (g * weight[e] - mean_g_hat - x_hat * mean_gx_hat) * scale over one row; with
    one entry per element, also g * x_hat and g added into dweight and dbias (B,)."""
    n_entries = weight.shape[0]
    if n_entries == grad.shape[0]:
        for b in range(grad.shape[0]):
            g, x_hat = grad[b], (x[b] - center) * scale
            dweight[b] += g * x_hat
            dbias[b] += g
            out[b] = (g * weight[b] - mean_g_hat - x_hat * mean_gx_hat) * scale
        return
    run = grad.shape[0] // n_entries
    for e in range(n_entries):
        w = weight[e]
        g_part, x_part = grad[e * run:(e + 1) * run], x[e * run:(e + 1) * run]
        out_part = out[e * run:(e + 1) * run]
        for b in range(run):
            x_hat = (x_part[b] - center) * scale
            out_part[b] = (g_part[b] * w - mean_g_hat - x_hat * mean_gx_hat) * scale


# Every thread adds its rows' dweight and dbias into tables of its own (one per chunk of
# rows), summed at the end, so no two threads add into the same number.

@numba.njit(cache=True, parallel=True)
def _grad_sums(grad, x, mean, rstd, weight, dweight, dbias):
    """The first pass over the (R, B) rows: per row, sum g_hat and sum g_hat * x_hat (R, 2);
    each chunk of rows adds into its own tables dweight[chunk], dbias[chunk] (Kp, Bp)."""
    n_rows, n_slices, n_chunks = grad.shape[0], mean.shape[0], dweight.shape[0]
    sums = np.empty((n_rows, 2))
    for chunk in numba.prange(n_chunks):
        for r in range(chunk * n_rows // n_chunks, (chunk + 1) * n_rows // n_chunks):
            k, t = r % n_slices, r % weight.shape[0]
            sums[r, 0], sums[r, 1] = _grad_sums_row(grad[r], x[r], mean[k], rstd[k], weight[t],
                                                    dweight[chunk, t], dbias[chunk, t])
    return sums


@numba.njit(cache=True, parallel=True)
def _norm_dx(grad, x, mean, rstd, weight, mean_g_hat, mean_gx_hat, dweight, dbias):
    """The second pass over the (R, B) rows: dx, given the per-slice means of g_hat and
    g_hat * x_hat (K,), in the same chunks of rows as _grad_sums."""
    n_rows, n_slices, n_chunks = grad.shape[0], mean.shape[0], dweight.shape[0]
    dx = np.empty_like(grad)
    for chunk in numba.prange(n_chunks):
        for r in range(chunk * n_rows // n_chunks, (chunk + 1) * n_rows // n_chunks):
            k, t = r % n_slices, r % weight.shape[0]
            _dx_row(grad[r], x[r], mean[k], rstd[k], weight[t], mean_g_hat[k], mean_gx_hat[k],
                    dx[r], dweight[chunk, t], dbias[chunk, t])
    return dx


@numba.njit(cache=True, parallel=True)
def _norm_rows_backward(grad, x, mean, rstd, weight, dweight, dbias):
    """Both passes when each slice is one row of (K, B): a row's dx is written right after its
    sums, while the row is in cache."""
    n_slices, n_after = grad.shape
    n_chunks = dweight.shape[0]
    dx = np.empty_like(grad)
    means = np.empty((n_slices, 2), grad.dtype)  # in grad's precision, as the reference's
    for chunk in numba.prange(n_chunks):
        for k in range(chunk * n_slices // n_chunks, (chunk + 1) * n_slices // n_chunks):
            t = k % weight.shape[0]
            total_g, total_gx = _grad_sums_row(grad[k], x[k], mean[k], rstd[k], weight[t],
                                               dweight[chunk, t], dbias[chunk, t])
            means[k, 0], means[k, 1] = total_g / n_after, total_gx / n_after
            _dx_row(grad[k], x[k], mean[k], rstd[k], weight[t], means[k, 0], means[k, 1],
                    dx[k], dweight[chunk, t], dbias[chunk, t])
    return dx


def norm_affine_backward(grad, x, mean, rstd, weight):
    n_before, n_slices, n_after = grad.shape
    rows = (n_before * n_slices, n_after)  # (R, B) = (A*K, B)
    # one chunk of rows per thread (a global read inside a kernel would stop Numba caching it)
    n_chunks = max(1, min(rows[0], numba.get_num_threads()))
    dweight = np.zeros((n_chunks,) + weight.shape)  # (chunks, Kp, Bp) float64
    dbias = np.zeros((n_chunks,) + weight.shape)
    if n_before == 1 and n_after > 0:  # every slice one contiguous row: both passes at once
        dx = _norm_rows_backward(grad[0], x[0], mean, rstd, weight, dweight, dbias)
    else:
        grad2, x2 = grad.reshape(rows), x.reshape(rows)
        sums = _grad_sums(grad2, x2, mean, rstd, weight, dweight, dbias)  # (R, 2)
        means = sums.reshape(n_before, n_slices, 2).sum(axis=0) / (n_before * n_after)
        means = means.astype(grad.dtype)  # the elementwise pass in grad's precision
        dx = _norm_dx(grad2, x2, mean, rstd, weight, means[:, 0], means[:, 1], dweight, dbias)
    return dx.reshape(grad.shape), dweight.sum(axis=0), dbias.sum(axis=0)


# The affine step loops over a in parallel and over (p, b) in memory order inside, so
# LayerNorm's view (N, D, 1), one parameter per element, streams as well as BatchNorm's
# (N, C, H*W); a lone sample (A = 1) runs on one thread. For B = 1 the loop over p runs
# alone: an inner loop of length 1 per element costs ~3x (measured on LayerNorm's view).

@numba.njit(cache=True, parallel=True)
def scale_shift(x, weight, bias):
    """y[a, p, b] = x[a, p, b] * weight[p] + bias[p] (see reference.scale_shift)."""
    n_before, n_params, n_after = x.shape
    y = np.empty_like(x)
    for a in numba.prange(n_before):
        if n_after == 1:
            for p in range(n_params):
                y[a, p, 0] = x[a, p, 0] * weight[p] + bias[p]
            continue
        for p in range(n_params):
            for b in range(n_after):
                y[a, p, b] = x[a, p, b] * weight[p] + bias[p]
    return y


@numba.njit(cache=True, parallel=True, fastmath={"reassoc"})
def _scale_shift_grads(grad, x, weight, n_chunks):
    """dx, and per-chunk partial sums for dweight and dbias: each chunk of samples a adds
    into its own row, so no two threads write the same number."""
    n_before, n_params, n_after = grad.shape
    dx = np.empty_like(grad)
    dweight = np.zeros((n_chunks, n_params))
    dbias = np.zeros((n_chunks, n_params))
    for chunk in numba.prange(n_chunks):
        dw, db = dweight[chunk], dbias[chunk]
        for a in range(chunk, n_before, n_chunks):
            if n_after == 1:
                for p in range(n_params):
                    g = grad[a, p, 0]
                    dx[a, p, 0] = g * weight[p]
                    dw[p] += g * x[a, p, 0]
                    db[p] += g
                continue
            for p in range(n_params):
                total_gx = 0.0
                total_g = 0.0
                for b in range(n_after):
                    g = grad[a, p, b]
                    dx[a, p, b] = g * weight[p]
                    total_gx += g * x[a, p, b]
                    total_g += g
                dw[p] += total_gx
                db[p] += total_g
    return dx, dweight, dbias


def scale_shift_backward(grad, x, weight):
    # one chunk per thread (a global read inside the kernel would stop Numba caching it)
    n_chunks = min(grad.shape[0], numba.get_num_threads())
    dx, dweight, dbias = _scale_shift_grads(grad, x, weight, n_chunks)
    return dx, dweight.sum(axis=0), dbias.sum(axis=0)


# --- convolution: im2col / col2im and the direct depthwise kernels (see reference.py) ---
# Each parallel loop runs over planes that only one iteration writes, so no two threads
# ever add into the same pixel. The loops visit only the outputs whose input pixel lies
# inside the image (`_inside`), so no index is ever negative; `_at` says so to the compiler
# with an unsigned index, which drops Numba's negative-index wraparound test from the inner
# loop (that test alone made these kernels ~3x slower).

@numba.njit(cache=True)
def _inside(offset, stride, size, count):
    """The range [lo, hi) of the o in [0, count) with 0 <= o*stride + offset < size."""
    lo = 0 if offset >= 0 else (stride - 1 - offset) // stride
    hi = min(count, (size - offset + stride - 1) // stride) if offset < size else 0
    return lo, max(lo, hi)


@numba.njit(cache=True, inline="always")
def _at(o, stride, offset):
    """The input index o*stride + offset, known to be >= 0, as an unsigned index."""
    return numba.uint64(o * stride + offset)


@numba.njit(cache=True, parallel=True)
def im2col(x, cols, stride, padding, dilation):
    """Copy every receptive field of `x` into `cols` (see reference.im2col)."""
    N, C, H, W = x.shape
    kH, kW, Ho, Wo = cols.shape[2:]
    (sH, sW), (pH, pW), (dH, dW) = stride, padding, dilation
    for plane in numba.prange(N * C):
        n, c = plane // C, plane % C
        image = x[n, c]
        for i in range(kH):
            top, bottom = _inside(i * dH - pH, sH, H, Ho)
            for j in range(kW):
                left, right = _inside(j * dW - pW, sW, W, Wo)
                block = cols[n, c, i, j]  # (Ho, Wo): what offset (i, j) reads
                block[:] = 0
                for oh in range(top, bottom):
                    h = _at(oh, sH, i * dH - pH)
                    for ow in range(left, right):
                        block[_at(oh, 1, 0), _at(ow, 1, 0)] = image[h, _at(ow, sW, j * dW - pW)]


@numba.njit(cache=True, parallel=True)
def col2im(cols, x, stride, padding, dilation):
    """The adjoint of im2col, overwriting x (see reference.col2im)."""
    N, C, H, W = x.shape
    kH, kW, Ho, Wo = cols.shape[2:]
    (sH, sW), (pH, pW), (dH, dW) = stride, padding, dilation
    for plane in numba.prange(N * C):
        n, c = plane // C, plane % C
        image = x[n, c]
        image[:] = 0
        for i in range(kH):
            top, bottom = _inside(i * dH - pH, sH, H, Ho)
            for j in range(kW):
                left, right = _inside(j * dW - pW, sW, W, Wo)
                block = cols[n, c, i, j]
                for oh in range(top, bottom):
                    h = _at(oh, sH, i * dH - pH)
                    for ow in range(left, right):
                        image[h, _at(ow, sW, j * dW - pW)] += block[_at(oh, 1, 0), _at(ow, 1, 0)]


# The depthwise kernels sweep whole planes: a plane is copied into a zero-padded flat
# scratch of row pitch P, and the output is kept in a flat scratch of row pitch Q >= Wo
# whose columns past Wo are spare. With P*sH == Q*sW, output q = oh*Q + ow reads the padded
# pixel sW*q + i*dH*P + j*dW at tap (i, j), so each tap is one inner loop over all Ho*Q
# outputs of the plane. Looping row by row instead starts Ho*kH*kW loops of only Wo pixels
# per plane, and on 16x16 planes starting them cost more than their arithmetic (measured:
# depthwise forward of 16x128x16x16, one thread, 1.1 -> 0.5 ms). The small helpers
# below are inlined into the kernels (~1.7x faster), except _sweep_dot: Numba's inlining
# would drop its fastmath flags, and without them the sum does not vectorise (5x slower).

_BLOCKS = 32  # parallel iterations of the depthwise kernels, each with its own scratch


@numba.njit(cache=True)
def _sweep_layout(H, W, Ho, Wo, kernel, stride, padding, dilation):
    """The row pitches (P, Q) of the padded input and of the swept output, and the length of
    the padded input: its rows hold every pixel read, and one spare row takes the reads of
    the spare output columns of the last row."""
    (kH, kW), (sH, sW), (pH, pW), (dH, dW) = kernel, stride, padding, dilation
    width = max(pW + W, (Wo - 1) * sW + (kW - 1) * dW + 1)
    m = max((width + sW - 1) // sW, (Wo + sH - 1) // sH)
    P, Q = sW * m, sH * m
    rows = max(pH + H, Ho * sH + (kH - 1) * dH + 1)
    return P, Q, rows * P


@numba.njit(cache=True, inline="always")
def _block(block, blocks, count):
    """The range [start, stop) of the items of parallel iteration `block` of `blocks`."""
    return block * count // blocks, (block + 1) * count // blocks


@numba.njit(cache=True, inline="always")
def _put(plane, flat, pitch, top, left):
    """Copy an (h, w) plane into `flat`, a plane of row pitch `pitch`, at (top, left)."""
    h_size, w_size = plane.shape
    for h in range(h_size):
        start = (h + top) * pitch + left
        for w in range(w_size):
            flat[_at(w, 1, start)] = plane[_at(h, 1, 0), _at(w, 1, 0)]


@numba.njit(cache=True, inline="always")
def _take(flat, pitch, top, left, plane):
    """Copy the (h, w) block at (top, left) of `flat`, of row pitch `pitch`, into `plane`."""
    h_size, w_size = plane.shape
    for h in range(h_size):
        start = (h + top) * pitch + left
        for w in range(w_size):
            plane[_at(h, 1, 0), _at(w, 1, 0)] = flat[_at(w, 1, start)]


@numba.njit(cache=True, inline="always")
def _sweep_add(acc, tap, source, step, offset):
    """acc[q] += tap * source[q*step + offset] for every q: one tap over a whole plane."""
    for q in range(acc.size):
        acc[_at(q, 1, 0)] += tap * source[_at(q, step, offset)]


@numba.njit(cache=True, inline="always")
def _sweep_scatter(target, tap, acc, step, offset):
    """target[q*step + offset] += tap * acc[q] for every q: the adjoint of _sweep_add."""
    for q in range(acc.size):
        target[_at(q, step, offset)] += tap * acc[_at(q, 1, 0)]


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _sweep_dot(acc, source, step, offset):
    """sum_q acc[q] * source[q*step + offset], reassociated so that it vectorises; in the
    arrays' dtype, as the sum over one plane is short (the caller sums planes in float64)."""
    total = acc.dtype.type(0)
    for q in range(acc.size):
        total += acc[_at(q, 1, 0)] * source[_at(q, step, offset)]
    return total


@numba.njit(cache=True, parallel=True)
def depthwise_conv2d(x, weight, out, stride, padding, dilation):
    """Depthwise convolution, direct (see reference.depthwise_conv2d)."""
    N, C, H, W = x.shape
    Cout, _, kH, kW = weight.shape
    Ho, Wo = out.shape[2:]
    (sH, sW), (pH, pW), (dH, dW) = stride, padding, dilation
    M = Cout // C
    P, Q, length = _sweep_layout(H, W, Ho, Wo, (kH, kW), stride, padding, dilation)
    planes = N * Cout
    blocks = min(_BLOCKS, planes)
    for block in numba.prange(blocks):
        padded = np.zeros(length, x.dtype)  # only the interior is ever written
        swept = np.empty(Ho * Q, x.dtype)
        start, stop = _block(block, blocks, planes)
        for plane in range(start, stop):
            n, o = plane // Cout, plane % Cout
            _put(x[n, o // M], padded, P, pH, pW)
            swept[:] = 0
            for i in range(kH):
                for j in range(kW):
                    _sweep_add(swept, weight[o, 0, i, j], padded, sW, i * dH * P + j * dW)
            _take(swept, Q, 0, 0, out[n, o])


@numba.njit(cache=True, parallel=True)
def depthwise_conv2d_input_grad(grad, weight, dx, stride, padding, dilation):
    """The adjoint of depthwise_conv2d in x, overwriting dx (see the reference)."""
    N, C, H, W = dx.shape
    Cout, _, kH, kW = weight.shape
    Ho, Wo = grad.shape[2:]
    (sH, sW), (pH, pW), (dH, dW) = stride, padding, dilation
    M = Cout // C
    P, Q, length = _sweep_layout(H, W, Ho, Wo, (kH, kW), stride, padding, dilation)
    planes = N * C
    blocks = min(_BLOCKS, planes)
    for block in numba.prange(blocks):
        padded = np.empty(length, dx.dtype)
        swept = np.zeros(Ho * Q, dx.dtype)  # the spare columns stay zero: they add nothing
        start, stop = _block(block, blocks, planes)
        for plane in range(start, stop):
            n, c = plane // C, plane % C
            padded[:] = 0
            for o in range(c * M, (c + 1) * M):
                _put(grad[n, o], swept, Q, 0, 0)
                for i in range(kH):
                    for j in range(kW):
                        _sweep_scatter(padded, weight[o, 0, i, j], swept, sW,
                                       i * dH * P + j * dW)
            _take(padded, P, pH, pW, dx[n, c])


@numba.njit(cache=True, parallel=True)
def depthwise_conv2d_weight_grad(x, grad, dweight, stride, padding, dilation):
    """The adjoint of depthwise_conv2d in the weight, overwriting dweight (see the reference)."""
    N, C, H, W = x.shape
    Cout, _, kH, kW = dweight.shape
    Ho, Wo = grad.shape[2:]
    (sH, sW), (pH, pW), (dH, dW) = stride, padding, dilation
    M = Cout // C
    P, Q, length = _sweep_layout(H, W, Ho, Wo, (kH, kW), stride, padding, dilation)
    for o in numba.prange(Cout):
        padded = np.zeros(length, x.dtype)
        swept = np.zeros(Ho * Q, x.dtype)  # the spare columns stay zero: they add nothing
        sums = np.zeros((kH, kW))
        for n in range(N):
            _put(x[n, o // M], padded, P, pH, pW)
            _put(grad[n, o], swept, Q, 0, 0)
            for i in range(kH):
                for j in range(kW):
                    sums[i, j] += _sweep_dot(swept, padded, sW, i * dH * P + j * dW)
        dweight[o, 0] = sums


# --- vision: non-maximum suppression, ROI Pool, ROI Align (see reference.py) ---------------
# The loops follow torchvision's CPU kernels. ROI Pool and ROI Align forward run boxes in
# parallel (each box writes its own outputs); the backward scatters run boxes in order
# (boxes overlap, so two boxes may add to one pixel) and ROI Align's runs channels in
# parallel within a box.

@numba.njit(cache=True)
def nms_keep(boxes, order, classes, iou_threshold):
    n = order.size
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    suppressed = np.zeros(n, np.bool_)  # by position in `order`
    keep = np.empty(n, np.int64)
    n_kept = 0
    for a in range(n):
        if suppressed[a]:
            continue
        i = order[a]
        keep[n_kept] = i
        n_kept += 1
        for b in range(a + 1, n):
            j = order[b]
            if suppressed[b] or classes[j] != classes[i]:
                continue
            width = max(min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0]), 0.0)
            height = max(min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1]), 0.0)
            inter = width * height
            union = areas[i] + areas[j] - inter
            iou = inter / union if union > 0.0 else 0.0
            if iou > iou_threshold:
                suppressed[b] = True
    return keep[:n_kept].copy()


@numba.njit(cache=True)
def _round_half_away(value):
    return math.copysign(math.floor(abs(value) + 0.5), value)


@numba.njit(cache=True, parallel=True)
def roi_pool_forward(x, batch_index, boxes, pooled_h, pooled_w, spatial_scale):
    _, channels, height, width = x.shape
    n_boxes = boxes.shape[0]
    out = np.zeros((n_boxes, channels, pooled_h, pooled_w), x.dtype)
    argmax = np.full((n_boxes, channels, pooled_h, pooled_w), -1, np.int64)
    for k in numba.prange(n_boxes):
        b = batch_index[k]
        start_w = int(_round_half_away(boxes[k, 0] * spatial_scale))
        start_h = int(_round_half_away(boxes[k, 1] * spatial_scale))
        end_w = int(_round_half_away(boxes[k, 2] * spatial_scale))
        end_h = int(_round_half_away(boxes[k, 3] * spatial_scale))
        bin_h = max(end_h - start_h + 1, 1) / pooled_h
        bin_w = max(end_w - start_w + 1, 1) / pooled_w
        for ph in range(pooled_h):
            h0 = min(max(start_h + int(math.floor(ph * bin_h)), 0), height)
            h1 = min(max(start_h + int(math.ceil((ph + 1) * bin_h)), 0), height)
            for pw in range(pooled_w):
                w0 = min(max(start_w + int(math.floor(pw * bin_w)), 0), width)
                w1 = min(max(start_w + int(math.ceil((pw + 1) * bin_w)), 0), width)
                if h1 <= h0 or w1 <= w0:
                    continue
                for c in range(channels):
                    best = x[b, c, h0, w0]
                    best_at = h0 * width + w0
                    for h in range(h0, h1):
                        for w in range(w0, w1):
                            if x[b, c, h, w] > best:
                                best = x[b, c, h, w]
                                best_at = h * width + w
                    out[k, c, ph, pw] = best
                    argmax[k, c, ph, pw] = best_at
    return out, argmax


@numba.njit(cache=True)
def roi_pool_backward(grad, argmax, batch_index, input_shape):
    n, channels, height, width = input_shape
    n_boxes, _, pooled_h, pooled_w = grad.shape
    grad_x = np.zeros((n, channels, height * width), grad.dtype)
    for k in range(n_boxes):
        b = batch_index[k]
        for c in range(channels):
            for ph in range(pooled_h):
                for pw in range(pooled_w):
                    at = argmax[k, c, ph, pw]
                    if at >= 0:
                        grad_x[b, c, at] += grad[k, c, ph, pw]
    return grad_x.reshape((n, channels, height, width))


@numba.njit(cache=True)
def _roi_align_taps(box, height, width, pooled_h, pooled_w, spatial_scale, sampling_ratio,
                    aligned):
    """For each sample of each bin of one box: its 4 pixels (h * W + w) and bilinear
    weights, pixel -1 for a sample dropped outside the map, and the divisor `count` of the
    average. The box is finite and the map has a pixel (vision/roi.py checks both)."""
    offset = 0.5 if aligned else 0.0
    x1 = box[0] * spatial_scale - offset
    y1 = box[1] * spatial_scale - offset
    roi_w = box[2] * spatial_scale - offset - x1
    roi_h = box[3] * spatial_scale - offset - y1
    if not aligned:
        roi_w = max(roi_w, 1.0)
        roi_h = max(roi_h, 1.0)
    bin_h = roi_h / pooled_h
    bin_w = roi_w / pooled_w
    grid_h = sampling_ratio if sampling_ratio > 0 else int(math.ceil(roi_h / pooled_h))
    grid_w = sampling_ratio if sampling_ratio > 0 else int(math.ceil(roi_w / pooled_w))
    count = max(grid_h * grid_w, 1)
    n_samples = max(grid_h, 0) * max(grid_w, 0)
    pixel = np.full((pooled_h, pooled_w, n_samples, 4), -1, np.int64)
    weight = np.zeros((pooled_h, pooled_w, n_samples, 4))
    for ph in range(pooled_h):
        for pw in range(pooled_w):
            for iy in range(grid_h):
                y = y1 + ph * bin_h + (iy + 0.5) * bin_h / grid_h
                for ix in range(grid_w):
                    x = x1 + pw * bin_w + (ix + 0.5) * bin_w / grid_w
                    if y < -1.0 or y > height or x < -1.0 or x > width:
                        continue  # outside the map: the sample counts as 0
                    # clamp into the map; past the last pixel centre all weight is on it
                    y_low = int(max(y, 0.0))
                    x_low = int(max(x, 0.0))
                    y_high = min(y_low + 1, height - 1)
                    x_high = min(x_low + 1, width - 1)
                    y_low = min(y_low, height - 1)
                    x_low = min(x_low, width - 1)
                    ly = max(y, 0.0) - y_low if y_high > y_low else 0.0
                    lx = max(x, 0.0) - x_low if x_high > x_low else 0.0
                    s = iy * grid_w + ix
                    pixel[ph, pw, s, 0] = y_low * width + x_low
                    pixel[ph, pw, s, 1] = y_low * width + x_high
                    pixel[ph, pw, s, 2] = y_high * width + x_low
                    pixel[ph, pw, s, 3] = y_high * width + x_high
                    weight[ph, pw, s, 0] = (1.0 - ly) * (1.0 - lx)
                    weight[ph, pw, s, 1] = (1.0 - ly) * lx
                    weight[ph, pw, s, 2] = ly * (1.0 - lx)
                    weight[ph, pw, s, 3] = ly * lx
    return pixel, weight, count


@numba.njit(cache=True, parallel=True)
def roi_align_forward(x, batch_index, boxes, pooled_h, pooled_w, spatial_scale,
                      sampling_ratio, aligned):
    n, channels, height, width = x.shape
    planes = x.reshape((n, channels, height * width))
    n_boxes = boxes.shape[0]
    out = np.zeros((n_boxes, channels, pooled_h, pooled_w), x.dtype)
    for k in numba.prange(n_boxes):
        pixel, weight, count = _roi_align_taps(boxes[k], height, width, pooled_h, pooled_w,
                                               spatial_scale, sampling_ratio, aligned)
        b = batch_index[k]
        for c in range(channels):
            for ph in range(pooled_h):
                for pw in range(pooled_w):
                    total = 0.0
                    for s in range(pixel.shape[2]):
                        p = pixel[ph, pw, s]
                        if p[0] < 0:
                            continue  # a dropped sample adds 0, whatever the map holds
                        w = weight[ph, pw, s]
                        total += (w[0] * planes[b, c, p[0]] + w[1] * planes[b, c, p[1]]
                                  + w[2] * planes[b, c, p[2]] + w[3] * planes[b, c, p[3]])
                    out[k, c, ph, pw] = total / count
    return out


@numba.njit(cache=True, parallel=True)
def roi_align_backward(grad, batch_index, boxes, input_shape, spatial_scale, sampling_ratio,
                       aligned):
    n, channels, height, width = input_shape
    n_boxes, _, pooled_h, pooled_w = grad.shape
    grad_x = np.zeros((n, channels, height * width), grad.dtype)
    for k in range(n_boxes):
        pixel, weight, count = _roi_align_taps(boxes[k], height, width, pooled_h, pooled_w,
                                               spatial_scale, sampling_ratio, aligned)
        b = batch_index[k]
        for c in numba.prange(channels):
            for ph in range(pooled_h):
                for pw in range(pooled_w):
                    g = grad[k, c, ph, pw]
                    for s in range(pixel.shape[2]):
                        if pixel[ph, pw, s, 0] < 0:
                            continue
                        for t in range(4):
                            grad_x[b, c, pixel[ph, pw, s, t]] += g * weight[ph, pw, s, t] / count
    return grad_x.reshape((n, channels, height, width))


# --- pooling, unpooling and resampling (see the reference kernels of the same names) -------
# One parallel loop over the N*C planes: planes are independent, so scatters need no locks.

@numba.njit(cache=True, parallel=True)
def window_max(x, start_h, length_h, start_w, length_w, dilation):
    # The windows come clipped to the input, so no tap needs a test and every index goes in
    # unsigned (`_at`). The running maximum is updated by selects, not branches: on random
    # data `value > best` is a coin toss that a branch predictor loses half the time.
    N, C, H, W = x.shape
    Ho, Wo = start_h.size, start_w.size
    d_h, d_w = dilation
    best = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    winner = np.empty((N, C, Ho, Wo), dtype=np.int64)
    for p in numba.prange(N * C):
        plane = x[p // C, p % C]  # (H, W)
        values, positions = best[p // C, p % C], winner[p // C, p % C]  # (Ho, Wo)
        for oh in range(Ho):
            top, rows = start_h[oh], length_h[oh]
            for ow in range(Wo):
                left, cols = start_w[ow], length_w[ow]
                # the first tap: a window of -inf keeps it, as PyTorch's start at -inf does
                top_value = plane[_at(top, 1, 0), _at(left, 1, 0)]
                where = top * W + left
                for a in range(rows):
                    h = top + a * d_h
                    for b in range(cols):
                        value = plane[_at(h, 1, 0), _at(b, d_w, left)]
                        wins = (value > top_value) | (value != value)  # NaN wins, as PyTorch
                        top_value = value if wins else top_value
                        where = h * W + left + b * d_w if wins else where
                values[_at(oh, 1, 0), _at(ow, 1, 0)] = top_value
                positions[_at(oh, 1, 0), _at(ow, 1, 0)] = where
    return best, winner


@numba.njit(cache=True, parallel=True)
def gather_planes(x, indices):
    N, C, H, W = x.shape
    h, w = indices.shape[2:]
    out = np.empty((N, C, h, w), dtype=x.dtype)
    for p in numba.prange(N * C):
        n, c = p // C, p % C
        plane = x[n, c].reshape(H * W)  # (H*W,)
        for i in range(h):
            for j in range(w):
                out[n, c, i, j] = plane[indices[n, c, i, j]]
    return out


@numba.njit(cache=True, parallel=True)
def scatter_planes(values, indices, height, width, accumulate):
    # The callers guarantee indices in [0, height*width) (functional.max_unpool2d checks
    # them), so they go in unsigned: no negative-index test per element.
    N, C, h, w = values.shape
    out = np.empty((N, C, height * width), dtype=values.dtype)
    for p in numba.prange(N * C):
        plane = out[p // C, p % C]  # (height*width,)
        plane[:] = 0  # zeroed here, not by np.zeros: both threads share the page faults
        sources, targets = values[p // C, p % C], indices[p // C, p % C]  # (h, w)
        for i in range(h):
            for j in range(w):
                if accumulate:
                    plane[numba.uint64(targets[i, j])] += sources[i, j]
                else:
                    plane[numba.uint64(targets[i, j])] = sources[i, j]
    return out.reshape(N, C, height, width)


@numba.njit(cache=True, parallel=True)
def separable_map(x, taps_h, weights_h, taps_w, weights_w):
    # Along rows first into a per-plane buffer (H, Wo), then along columns: Th + Tw
    # multiply-adds per output instead of Th * Tw.
    N, C, H, W = x.shape
    Ho, Th = taps_h.shape
    Wo, Tw = taps_w.shape
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for p in numba.prange(N * C):
        n, c = p // C, p % C
        rows = np.zeros((H, Wo), dtype=x.dtype)
        for i in range(H):
            for ow in range(Wo):
                for t in range(Tw):
                    j = taps_w[ow, t]
                    if j >= 0:
                        rows[i, ow] += weights_w[ow, t] * x[n, c, i, j]
        for oh in range(Ho):
            for t in range(Th):
                i = taps_h[oh, t]
                if i >= 0:
                    weight = weights_h[oh, t]
                    for ow in range(Wo):
                        out[n, c, oh, ow] += weight * rows[i, ow]
    return out


@numba.njit(cache=True, parallel=True)
def separable_map_transpose(grad, taps_h, weights_h, taps_w, weights_w, height, width):
    # The forward's two passes transposed and in reverse order: columns back to rows, then
    # rows back to the input, each a scatter of the gradient with the forward's weights.
    N, C, Ho, Wo = grad.shape
    Th = taps_h.shape[1]
    Tw = taps_w.shape[1]
    dx = np.zeros((N, C, height, width), dtype=grad.dtype)
    for p in numba.prange(N * C):
        n, c = p // C, p % C
        rows = np.zeros((height, Wo), dtype=grad.dtype)
        for oh in range(Ho):
            for t in range(Th):
                i = taps_h[oh, t]
                if i >= 0:
                    weight = weights_h[oh, t]
                    for ow in range(Wo):
                        rows[i, ow] += weight * grad[n, c, oh, ow]
        for i in range(height):
            for ow in range(Wo):
                for t in range(Tw):
                    j = taps_w[ow, t]
                    if j >= 0:
                        dx[n, c, i, j] += weights_w[ow, t] * rows[i, ow]
    return dx
