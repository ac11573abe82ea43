"""Mask R-CNN, small enough to train on a CPU: the two-stage detector of the course's R-CNN
lineage (Girshick 2014 → Fast R-CNN 2015 with ROI Pool → Faster R-CNN, Ren et al. 2015,
with a region proposal network → Mask R-CNN, He et al. 2017, with ROI Align and a mask
head), laid out as torchvision's models/detection and with its conventions.

    image → backbone (stride 4) → RPN: objectness + deltas per anchor → proposals (NMS)
          → ROI Align (or ROI Pool) 7x7 → box head: class scores + class-specific deltas
          → mask head on the same 7x7 features: a 14x14 mask logit map per class
          → boxes, scores, labels, masks pasted back into the image

Labels: the model takes and returns the data's 0-based class indices (ShapesDataset's, as
the YOLO model); inside the heads class 0 is the background and object class c is c + 1, as
in torchvision, so `num_classes` counts objects only.
"""
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

from ... import nn, vision
from ...random import default_generator
from ..segmentation._utils import check_choice, check_positive_int

__all__ = ["MaskRCNNLite", "anchor_grid", "match_boxes", "sample_balanced", "rpn_loss",
           "box_head_loss", "mask_loss", "paste_masks", "mask_rcnn_lite"]

ROI_OPS = ("align", "pool")
RPN_WEIGHTS = (1.0, 1.0, 1.0, 1.0)
BOX_WEIGHTS = (10.0, 10.0, 5.0, 5.0)  # Fast R-CNN's: box-head targets of about unit variance
SMOOTH_L1_BETA = 1 / 9  # torchvision's: nearly L1, quadratic only within 1/9 of the target


# ---------------------------------------------------------------------------------------
# anchors, matching and sampling (NumPy: they choose the training examples, no gradient)

def anchor_grid(feature_size, stride, sizes, aspect_ratios=(1.0,)):
    """Reference boxes tiled over a feature map: at the centre of each cell,
    ((col + 0.5) * stride, (row + 0.5) * stride), one box per (size, aspect ratio) with area
    size² and height / width = aspect ratio. (torchvision puts the centres on the cells'
    corners, col * stride, and rounds the corners; centres describe the cell better.)

    Order: row-major over cells, then sizes, then aspect ratios inside a cell; the RPN
    head's outputs are laid out the same way.
    Shapes: -> (H * W * len(sizes) * len(aspect_ratios), 4) xyxy.
    """
    height, width = feature_size
    ratios = np.asarray(aspect_ratios, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.float64)
    if sizes.ndim != 1 or ratios.ndim != 1 or not (np.all(sizes > 0) and np.all(ratios > 0)):
        raise ValueError(f"anchor_grid: sizes and aspect_ratios must be positive 1-d lists, "
                         f"got {sizes.tolist()} and {ratios.tolist()}")
    half_w = (sizes[:, None] / np.sqrt(ratios)[None, :]).reshape(-1) / 2  # (A,)
    half_h = (sizes[:, None] * np.sqrt(ratios)[None, :]).reshape(-1) / 2
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    cx = ((cols.reshape(-1) + 0.5) * stride)[:, None]  # (H*W, 1)
    cy = ((rows.reshape(-1) + 0.5) * stride)[:, None]
    return np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h],
                    axis=-1).reshape(-1, 4)  # (H*W*A, 4)


def match_boxes(iou, high, low, allow_low_quality=False):
    """Assign each candidate (anchor or proposal) to a ground-truth box by IoU, as
    torchvision's Matcher: the best-overlapping box if its IoU >= high, -1 (background) if
    the best IoU < low, -2 (ignored in training) in between. With `allow_low_quality`
    (the RPN's rule), the candidates that overlap a box best of all also match it, so that
    every box gets at least one positive even when no anchor reaches `high`.

    Shapes: iou (G, K) -> (K,) int64 box index, -1 or -2.
    """
    iou = np.asarray(iou, dtype=np.float64)
    if iou.shape[0] == 0:
        return np.full(iou.shape[1], -1, np.int64)
    best = iou.max(axis=0)
    matches = iou.argmax(axis=0).astype(np.int64)
    original = matches.copy()
    matches[best < high] = -2
    matches[best < low] = -1
    if allow_low_quality:
        # every candidate tied for a box's highest IoU (which must be > 0)
        per_box_best = iou.max(axis=1, keepdims=True)  # (G, 1)
        _, candidates = np.nonzero((iou == per_box_best) & (per_box_best > 0))
        matches[candidates] = original[candidates]
    return matches


def sample_balanced(matches, batch_size, positive_fraction, rng):
    """Faster R-CNN's minibatch of candidates for one image: up to batch_size *
    positive_fraction positives (matches >= 0), filled up to batch_size with negatives
    (matches == -1), each drawn at random without replacement; ignored ones (-2) never.

    Returns (positive indices, negative indices), each sorted.
    """
    positive = np.flatnonzero(matches >= 0)
    negative = np.flatnonzero(matches == -1)
    n_positive = min(len(positive), int(batch_size * positive_fraction))
    n_negative = min(len(negative), batch_size - n_positive)
    return (np.sort(rng.choice(positive, n_positive, replace=False)),
            np.sort(rng.choice(negative, n_negative, replace=False)))


# ---------------------------------------------------------------------------------------
# losses (Tensors in, scalar Tensors out)

def _box_regression_loss(deltas, target_deltas, n_sampled):
    """Smooth L1 summed over the positives' coordinates, divided by the number of sampled
    candidates (positive and negative): torchvision's normalisation, which keeps the box
    term's weight independent of how many positives an image has."""
    if deltas.shape[0] == 0:
        return deltas.sum() * 0.0  # no positives: zero, still connected to the graph
    target = mg.tensor(np.asarray(target_deltas), dtype=deltas.dtype)
    return F.smooth_l1_loss(deltas, target, reduction="sum", beta=SMOOTH_L1_BETA) / n_sampled


def rpn_loss(objectness, deltas, labels, target_deltas):
    """The region proposal network's two losses over one minibatch of S sampled anchors:
    binary cross-entropy of the objectness logits against labels (1 object, 0 background),
    and smooth L1 between the positives' predicted deltas and `encode_boxes(gt, anchor)`.

    Shapes: objectness (S,), deltas (S, 4), labels (S,), target_deltas (S, 4) (rows of
    negatives are not read) -> (objectness loss, box loss), scalars.
    """
    labels = np.asarray(labels)
    objectness_loss = F.binary_cross_entropy_with_logits(
        objectness, mg.tensor(labels, dtype=objectness.dtype))
    positive = np.flatnonzero(labels == 1)
    box_loss = _box_regression_loss(deltas[positive], np.asarray(target_deltas)[positive],
                                    len(labels))
    return objectness_loss, box_loss


def box_head_loss(class_logits, box_regression, labels, target_deltas):
    """Fast R-CNN's multi-task loss over S sampled proposals: cross-entropy over the
    classes (0 = background), and smooth L1 on the deltas predicted FOR THE TRUE CLASS of
    each positive (the head predicts one set of deltas per class).

    Shapes: class_logits (S, C+1), box_regression (S, (C+1)*4), labels (S,) in 0..C,
    target_deltas (S, 4) -> (classifier loss, box loss), scalars.
    """
    labels = np.asarray(labels, dtype=np.int64)
    classifier_loss = F.cross_entropy(class_logits, mg.tensor(labels))
    positive = np.flatnonzero(labels > 0)
    per_class = box_regression.reshape(labels.shape[0], -1, 4)  # (S, C+1, 4)
    box_loss = _box_regression_loss(per_class[positive, labels[positive]],
                                    np.asarray(target_deltas)[positive], len(labels))
    return classifier_loss, box_loss


def mask_loss(mask_logits, labels, mask_targets):
    """Mask R-CNN's mask loss: per-pixel binary cross-entropy of the mask predicted for the
    ROI's ground-truth class only (the classes do not compete, unlike an FCN's softmax),
    against the ground-truth mask cut out of the ROI by ROI Align (soft at the edges).

    Shapes: mask_logits (P, C+1, M, M), labels (P,) in 1..C, mask_targets (P, M, M) in
    [0, 1] -> scalar.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape[0] == 0:
        return mask_logits.sum() * 0.0
    chosen = mask_logits[np.arange(labels.shape[0]), labels]  # (P, M, M)
    return F.binary_cross_entropy_with_logits(
        chosen, mg.tensor(np.asarray(mask_targets), dtype=mask_logits.dtype))


# ---------------------------------------------------------------------------------------
# masks back into the image

def _bilinear_weights(pixel_centres, start, length, m):
    """(n_pixels, m) matrix that samples an m-cell row, spread over [start, start + length),
    at the given image coordinates: bilinear between the two nearest cell centres, the edge
    cells' values held beyond their centres."""
    position = ((pixel_centres - start) / length * m - 0.5).clip(0, m - 1)  # in cells
    lower = np.minimum(np.floor(position).astype(np.int64), m - 2) if m > 1 else \
        np.zeros(len(position), np.int64)
    frac = position - lower
    weights = np.zeros((len(position), m))
    rows = np.arange(len(position))
    weights[rows, lower] += 1 - frac
    weights[rows, np.minimum(lower + 1, m - 1)] += frac
    return weights


def paste_masks(masks, boxes, image_size):
    """Each M x M mask resized bilinearly to its box and placed in an empty image: pixel
    (y, x), centre (x + 0.5, y + 0.5), reads the mask where that point falls in the box
    (cell i covers [x1 + i w / M, x1 + (i + 1) w / M], as ROI Align cut the targets);
    pixels whose centre is outside the box are 0. The resize is two matrix products,
    rows @ mask @ cols.T.

    Shapes: masks (N, M, M), boxes (N, 4) xyxy, image_size (H, W) -> (N, 1, H, W).
    """
    masks = np.asarray(masks, dtype=np.float64)
    boxes = vision.as_boxes(boxes)
    height, width = image_size
    ys, xs = np.arange(height) + 0.5, np.arange(width) + 0.5
    out = np.zeros((len(boxes), 1, height, width))
    m = masks.shape[-1]
    for n, (x1, y1, x2, y2) in enumerate(boxes):
        if x2 <= x1 or y2 <= y1:
            continue
        rows = _bilinear_weights(ys, y1, y2 - y1, m)  # (H, M)
        cols = _bilinear_weights(xs, x1, x2 - x1, m)  # (W, M)
        inside = ((ys >= y1) & (ys < y2))[:, None] & ((xs >= x1) & (xs < x2))[None, :]
        out[n, 0] = np.where(inside, rows @ masks[n] @ cols.T, 0.0)
    return out


# ---------------------------------------------------------------------------------------
# the network

def _conv_bn_relu(in_channels, out_channels, stride=1):
    return [nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]


class Backbone(nn.Sequential):
    """Four 3x3 conv-BN-ReLU layers, two of them with stride 2: a stride-4 feature map, fine
    enough for ROI Align to place 14-28-pixel objects to a fraction of a pixel.
    Shapes: (N, 3, H, W) -> (N, channels, H/4, W/4).
    """

    stride = 4

    def __init__(self, channels=32):
        super().__init__(*_conv_bn_relu(3, channels // 4, stride=2),
                         *_conv_bn_relu(channels // 4, channels // 2),
                         *_conv_bn_relu(channels // 2, channels // 2, stride=2),
                         *_conv_bn_relu(channels // 2, channels))
        self.out_channels = channels


class RPNHead(nn.Module):
    """A shared 3x3 conv, then per anchor of each cell one objectness logit and four deltas.
    Shapes: (N, C, h, w) -> objectness (N, h*w*A), deltas (N, h*w*A, 4) in anchor_grid's
    order.
    """

    def __init__(self, in_channels, num_anchors):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, in_channels, 3, padding=1)
        self.cls_logits = nn.Conv2d(in_channels, num_anchors, 1)
        self.bbox_pred = nn.Conv2d(in_channels, num_anchors * 4, 1)

    def forward(self, features):
        n = features.shape[0]
        hidden = F.relu(self.conv(features))
        objectness = self.cls_logits(hidden).permute(0, 2, 3, 1).reshape(n, -1)  # (N, h*w*A)
        # channels are (anchor, coordinate): (N, A*4, h, w) -> (N, h, w, A*4) -> (N, h*w*A, 4)
        deltas = self.bbox_pred(hidden).permute(0, 2, 3, 1).reshape(n, -1, 4)
        return objectness, deltas


class BoxHead(nn.Module):
    """Two fully connected layers on the pooled 7x7 ROI features, then class logits and one
    set of deltas per class (Fast R-CNN's two sibling outputs).
    Shapes: (K, C, 7, 7) -> (K, num_classes + 1), (K, (num_classes + 1) * 4).
    """

    def __init__(self, in_features, hidden, num_classes):
        super().__init__()
        self.fc6 = nn.Linear(in_features, hidden)
        self.fc7 = nn.Linear(hidden, hidden)
        self.cls_score = nn.Linear(hidden, num_classes + 1)
        self.bbox_pred = nn.Linear(hidden, (num_classes + 1) * 4)

    def forward(self, roi_features):
        x = F.relu(self.fc7(F.relu(self.fc6(roi_features.flatten(1)))))
        return self.cls_score(x), self.bbox_pred(x)


class MaskHead(nn.Sequential):
    """Two 3x3 convs on the same 7x7 ROI features as the box head, a 2x2 transposed conv
    with stride 2 up to 14x14, and a 1x1 conv to one mask logit map per class (background
    included, unused, so that class c's map is channel c as in torchvision; torchvision's
    head works at 14x14 and upsamples to 28x28).
    Shapes: (P, C, 7, 7) -> (P, num_classes + 1, 14, 14).
    """

    def __init__(self, in_channels, hidden, num_classes):
        super().__init__(nn.Conv2d(in_channels, hidden, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(inplace=True),
                         nn.ConvTranspose2d(hidden, hidden, 2, stride=2),
                         nn.ReLU(inplace=True), nn.Conv2d(hidden, num_classes + 1, 1))


class MaskRCNNLite(nn.Module):
    """Backbone, region proposal network, box head and mask head; see `mask_rcnn_lite`.

    Train mode: `model(images, targets)` -> dict of scalar losses `loss_objectness`,
    `loss_rpn_box_reg`, `loss_classifier`, `loss_box_reg`, `loss_mask` (sum them to train).
    Eval mode: `model(images)` -> one dict per image: `boxes` (D, 4) xyxy pixels, `scores`
    (D,), `labels` (D,) 0-based classes, `masks` (D, 1, H, W) probabilities, by decreasing
    score (NumPy arrays, the format vision.mean_average_precision takes).
    Shapes: images (N, 3, H, W) (a Tensor, an array or a list of (3, H, W) images);
    targets one dict per image with `boxes` (G, 4), `labels` (G,), `masks` (G, H, W).
    """

    def __init__(self, num_classes, backbone_channels=32, anchor_sizes=(12, 16, 22, 28),
                 aspect_ratios=(1.0,), roi_op="align", rpn_batch_size=64,
                 rpn_pre_nms_top_n=300, rpn_post_nms_top_n=(100, 50), rpn_nms_thresh=0.7,
                 box_batch_size=64, box_positive_fraction=0.25, box_hidden=128,
                 mask_hidden=32, box_score_thresh=0.05, box_nms_thresh=0.5,
                 detections_per_img=100):
        super().__init__()
        check_positive_int("mask_rcnn_lite", "num_classes", num_classes)
        check_choice("mask_rcnn_lite", "roi_op", roi_op, ROI_OPS)
        self.num_classes = num_classes
        self.backbone = Backbone(backbone_channels)
        self.anchor_sizes, self.aspect_ratios = tuple(anchor_sizes), tuple(aspect_ratios)
        num_anchors = len(self.anchor_sizes) * len(self.aspect_ratios)
        self.rpn = RPNHead(backbone_channels, num_anchors)
        self.box_head = BoxHead(backbone_channels * 7 * 7, box_hidden, num_classes)
        self.mask_head = MaskHead(backbone_channels, mask_hidden, num_classes)
        self.roi_op = roi_op
        self.mask_size = 14  # the mask head's output: 7x7 ROI features upsampled twice
        self.rpn_batch_size, self.rpn_pre_nms_top_n = rpn_batch_size, rpn_pre_nms_top_n
        self.rpn_post_nms_top_n, self.rpn_nms_thresh = rpn_post_nms_top_n, rpn_nms_thresh
        self.box_batch_size, self.box_positive_fraction = box_batch_size, box_positive_fraction
        self.box_score_thresh, self.box_nms_thresh = box_score_thresh, box_nms_thresh
        self.detections_per_img = detections_per_img

    # -- pieces ---------------------------------------------------------------------------

    def anchors(self, feature_size):
        """The anchors of a feature map of this size, in image pixels: (h*w*A, 4)."""
        return anchor_grid(feature_size, self.backbone.stride, self.anchor_sizes,
                           self.aspect_ratios)

    def pool(self, features, boxes, output_size):
        """ROI Align (sampling 2x2 per bin, pixel centres at +0.5) or ROI Pool (corners
        rounded to the feature grid: the quantisation ROI Align removed) of image-pixel
        boxes. Shapes: features (N, C, h, w), boxes list of (L_n, 4) -> (K, C, s, s)."""
        scale = 1.0 / self.backbone.stride
        if self.roi_op == "pool":
            return vision.roi_pool(features, boxes, output_size, spatial_scale=scale)
        return vision.roi_align(features, boxes, output_size, spatial_scale=scale,
                                sampling_ratio=2, aligned=True)

    def propose(self, objectness, deltas, anchors, image_size):
        """Proposals for one image: decode every anchor's deltas, clip to the image, drop
        boxes under a pixel, keep the top-scoring pre_nms_top_n, NMS at rpn_nms_thresh,
        keep post_nms_top_n. No gradient flows through proposals (as torchvision).
        Shapes: objectness (A,), deltas (A, 4), anchors (A, 4) -> (P, 4)."""
        boxes = _clip(vision.decode_boxes(deltas, anchors, RPN_WEIGHTS), image_size)
        big = np.flatnonzero(((boxes[:, 2] - boxes[:, 0]) >= 1)
                             & ((boxes[:, 3] - boxes[:, 1]) >= 1))
        top = big[np.argsort(-objectness[big], kind="stable")[:self.rpn_pre_nms_top_n]]
        keep = vision.nms(boxes[top], objectness[top], self.rpn_nms_thresh)
        return boxes[top[keep[:self.rpn_post_nms_top_n[0 if self.training else 1]]]]

    # -- forward ----------------------------------------------------------------------------

    def forward(self, images, targets=None):
        images = _as_batch(images)
        if self.training and targets is None:
            raise ValueError("MaskRCNNLite: in training mode targets are required "
                             "(model(images, targets)); call model.eval() to detect")
        image_size = tuple(images.shape[2:])
        features = self.backbone(images)
        anchors = self.anchors(tuple(features.shape[2:]))
        objectness, deltas = self.rpn(features)
        proposals = [self.propose(o, d, anchors, image_size)
                     for o, d in zip(objectness.data, deltas.data)]
        if not self.training:
            return self.detect(features, proposals, image_size)
        targets = [_check_target(t, image_size, self.num_classes, i)
                   for i, t in enumerate(targets)]
        if len(targets) != images.shape[0]:
            raise ValueError(f"MaskRCNNLite: {images.shape[0]} images but {len(targets)} "
                             "targets")
        losses = self.rpn_losses(objectness, deltas, anchors, targets)
        losses.update(self.head_losses(features, proposals, targets))
        return losses

    def rpn_losses(self, objectness, deltas, anchors, targets):
        """Anchors matched at IoU 0.7 / 0.3 (best anchors of each box also positive), a
        balanced sample of rpn_batch_size per image, rpn_loss over all images' samples."""
        rng = default_generator.rng
        rows, labels, target_deltas = [], [], []
        for n, target in enumerate(targets):
            matches = match_boxes(vision.box_iou(target["boxes"], anchors), 0.7, 0.3,
                                  allow_low_quality=True)
            positive, negative = sample_balanced(matches, self.rpn_batch_size, 0.5, rng)
            sampled = np.concatenate([positive, negative])
            rows.append(n * len(anchors) + sampled)
            labels.append((np.arange(len(sampled)) < len(positive)).astype(np.float64))
            codes = np.zeros((len(sampled), 4))
            codes[:len(positive)] = vision.encode_boxes(
                target["boxes"][matches[positive]], anchors[positive], RPN_WEIGHTS)
            target_deltas.append(codes)
        rows = np.concatenate(rows)
        loss_objectness, loss_box = rpn_loss(objectness.reshape(-1)[rows],
                                             deltas.reshape(-1, 4)[rows],
                                             np.concatenate(labels),
                                             np.concatenate(target_deltas))
        return {"loss_objectness": loss_objectness, "loss_rpn_box_reg": loss_box}

    def head_losses(self, features, proposals, targets):
        """The ground-truth boxes join the proposals (so the heads see good boxes from the
        first step); proposals matched at IoU 0.5, a sample of box_batch_size per image with
        box_positive_fraction positives; box head loss on all, mask loss on the positives."""
        rng = default_generator.rng
        rois, labels, target_deltas, mask_targets = [], [], [], []
        for proposal, target in zip(proposals, targets):
            candidates = np.concatenate([proposal, target["boxes"]])
            matches = match_boxes(vision.box_iou(target["boxes"], candidates), 0.5, 0.5)
            positive, negative = sample_balanced(matches, self.box_batch_size,
                                                 self.box_positive_fraction, rng)
            sampled = np.concatenate([positive, negative])
            rois.append(candidates[sampled])
            gt = matches[positive]
            labels.append(np.concatenate([target["labels"][gt] + 1,
                                          np.zeros(len(negative), np.int64)]))
            codes = np.zeros((len(sampled), 4))
            codes[:len(positive)] = vision.encode_boxes(target["boxes"][gt],
                                                        candidates[positive], BOX_WEIGHTS)
            target_deltas.append(codes)
            mask_targets.append(_mask_targets(target["masks"][gt], candidates[positive],
                                              self.mask_size))
        roi_features = self.pool(features, rois, 7)  # (K, C, 7, 7)
        class_logits, box_regression = self.box_head(roi_features)
        labels = np.concatenate(labels)
        loss_classifier, loss_box = box_head_loss(class_logits, box_regression, labels,
                                                  np.concatenate(target_deltas))
        positive = np.flatnonzero(labels > 0)  # each image's positives, in rois' order
        mask_logits = self.mask_head(roi_features[positive])
        loss_mask = mask_loss(mask_logits, labels[positive], np.concatenate(mask_targets))
        return {"loss_classifier": loss_classifier, "loss_box_reg": loss_box,
                "loss_mask": loss_mask}

    def detect(self, features, proposals, image_size):
        """Per image: class probabilities and class-specific boxes for every proposal, each
        (proposal, class) pair above box_score_thresh a candidate, per-class NMS, the best
        detections_per_img kept; then the mask head on the final boxes, the mask of the
        predicted class pasted into the image."""
        with mg.no_grad():
            class_logits, box_regression = self.box_head(self.pool(features, proposals, 7))
        probs = F.softmax(class_logits, dim=1).data  # (K, C+1)
        per_class = box_regression.data.reshape(len(probs), -1, 4)[:, 1:]  # (K, C, 4)
        results, start = [], 0
        for proposal in proposals:
            k = len(proposal)
            boxes = vision.decode_boxes(per_class[start:start + k].reshape(-1, 4),
                                        np.repeat(proposal, self.num_classes, axis=0),
                                        BOX_WEIGHTS)  # (k*C, 4), class fastest
            boxes = _clip(boxes, image_size)
            scores = probs[start:start + k, 1:].reshape(-1)
            labels = np.tile(np.arange(self.num_classes), k)
            start += k
            keep = np.flatnonzero((scores > self.box_score_thresh)
                                  & ((boxes[:, 2] - boxes[:, 0]) >= 1e-2)
                                  & ((boxes[:, 3] - boxes[:, 1]) >= 1e-2))
            kept = vision.batched_nms(boxes[keep], scores[keep], labels[keep],
                                      self.box_nms_thresh)[:self.detections_per_img]
            keep = keep[kept]
            results.append({"boxes": boxes[keep], "scores": scores[keep],
                            "labels": labels[keep].astype(np.int64)})
        with mg.no_grad():
            mask_logits = self.mask_head(self.pool(features, [r["boxes"] for r in results],
                                                   7)).data
        start = 0
        for n, result in enumerate(results):
            d = len(result["boxes"])
            chosen = mask_logits[np.arange(start, start + d), result["labels"] + 1]
            start += d
            result["masks"] = paste_masks(1 / (1 + np.exp(-chosen)), result["boxes"],
                                          image_size)
        return results


def _as_batch(images):
    if isinstance(images, (list, tuple)):
        images = np.stack([np.asarray(i.data if isinstance(i, mg.Tensor) else i)
                           for i in images])
    if not isinstance(images, mg.Tensor):
        images = mg.tensor(np.asarray(images, dtype=np.float32))
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"MaskRCNNLite: images must be (N, 3, H, W), got shape "
                         f"{tuple(images.shape)}")
    return images


def _check_target(target, image_size, num_classes, index):
    """A target dict as float64/int64/bool arrays, its boxes, labels and masks consistent."""
    try:
        boxes = vision.as_boxes(target["boxes"], f"targets[{index}]['boxes']")
        labels = np.asarray(target["labels"], dtype=np.int64).reshape(-1)
        masks = np.asarray(target["masks"], dtype=np.float64)
    except (KeyError, TypeError) as error:
        raise ValueError(f"MaskRCNNLite: targets[{index}] must be a dict with 'boxes', "
                         f"'labels' and 'masks' ({error!r})") from None
    if len(labels) != len(boxes) or masks.shape != (len(boxes), *image_size):
        raise ValueError(f"MaskRCNNLite: targets[{index}] has {len(boxes)} boxes, "
                         f"{len(labels)} labels and masks of shape {masks.shape}; expected "
                         f"({len(boxes)}, {image_size[0]}, {image_size[1]}) masks")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"MaskRCNNLite: targets[{index}] labels must be 0-based classes in "
                         f"[0, {num_classes}), got {labels.tolist()}")
    return {"boxes": boxes, "labels": labels, "masks": masks}


def _clip(boxes, image_size):
    height, width = image_size
    return np.stack([boxes[:, 0].clip(0, width), boxes[:, 1].clip(0, height),
                     boxes[:, 2].clip(0, width), boxes[:, 3].clip(0, height)], axis=1)


def _mask_targets(masks, rois, size):
    """Each ROI's ground-truth mask cut out by ROI Align on the full-resolution mask (a
    coverage fraction in [0, 1] per cell). Shapes: masks (P, H, W), rois (P, 4) -> (P, s, s)."""
    if len(rois) == 0:
        return np.zeros((0, size, size))
    batch_rois = np.concatenate([np.arange(len(rois))[:, None], rois], axis=1)  # (P, 5)
    return vision.roi_align(mg.tensor(masks[:, None]), batch_rois, size, spatial_scale=1.0,
                            sampling_ratio=2, aligned=True).data[:, 0]


def mask_rcnn_lite(num_classes=3, roi_op="align", **kwargs):
    """A small Mask R-CNN for 64x64 images (ShapesDataset(n, size=64, min_shapes=1,
    max_shapes=4)): stride-4 backbone with 32 channels, anchors of 12-28 pixels, an RPN,
    7x7 ROI features into a two-layer box head and into a mask head (14x14 masks).
    `roi_op="pool"` cuts the ROI features with ROI Pool instead of ROI Align.

    Training recipe (Adam, random batches from 1000 training images, scored on 100
    validation images): batch 4, lr 4e-3, box_batch_size=32, box_positive_fraction=0.5,
    lr / 10 for the last 15% of the time. Through `python -m minigrad train detect --model
    mask_rcnn_lite --train-images 1000 --epochs 3 --batch-size 4 --lr 4e-3` (750 steps,
    cosine schedule; bench/detection.py) on two quiet cores: 1.5 minutes, box mAP@.5 0.999
    (@.5:.95 0.87) and mask mAP@.5 0.996 (@.5:.95 0.89) on 200 validation images. On a
    machine at load 11-15, 20 minutes bought only 362 steps: box and mask mAP@.5 0.849.
    The defaults (batch 8, lr 2e-3, Faster R-CNN's quarter of positives) reached 0.71
    box and mask mAP@.5 in the same time (202 steps), and 0.27 against 0.41 after 80
    steps: more positives per step teach the heads faster.

    Other arguments (backbone_channels, anchor_sizes, rpn_batch_size, box_batch_size, ...)
    are MaskRCNNLite's.
    """
    return MaskRCNNLite(num_classes, roi_op=roi_op, **kwargs)
