"""summary(): parameter and mult-add counts, filled-in output-size formulas, receptive
fields and jumps, against hand-worked values, torchvision and published figures."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.models.summary import summary


def rows_by_name(result):
    return {row.name: row for row in result.rows}


def test_conv_row_formula_params_and_mult_adds():
    result = summary(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, dilation=2)), (2, 3, 32, 32))
    conv = rows_by_name(result)["0"]
    # Ho = ⌊(H + 2p − d·(k−1) − 1)/s⌋ + 1 = ⌊(32 + 2 − 4 − 1)/1⌋ + 1 = 30
    assert conv.formula == "⌊(32 + 2·1 − 2·(3−1) − 1)/1⌋ + 1 = 30"
    assert conv.output_shape == (2, 8, 30, 30)
    assert conv.params == 8 * 3 * 3 * 3 + 8 == 224
    # N·Cout·Ho·Wo·Cin·kH·kW = 2·8·30·30·3·3·3
    assert conv.mult_adds == 388_800
    assert result.total_params == 224 and result.total_mult_adds == 388_800
    assert conv.receptive_field == (5, 5)  # 1 + (3−1)·2


def test_unequal_axes_get_one_formula_each():
    row = rows_by_name(summary(nn.Sequential(nn.Conv2d(1, 1, (3, 1), stride=(2, 1))),
                               (1, 1, 9, 6)))["0"]
    assert row.formula == ("H: ⌊(9 + 2·0 − 1·(3−1) − 1)/2⌋ + 1 = 4; "
                           "W: ⌊(6 + 2·0 − 1·(1−1) − 1)/1⌋ + 1 = 6")
    assert row.receptive_field == (3, 1) and row.jump == (2, 1)


@pytest.mark.parametrize("dilation, growth", [(1, 2), (2, 4)])
def test_stack_of_3x3_convs_grows_the_receptive_field_linearly(dilation, growth):
    # each 3x3 conv adds (k−1)·d·j = 2·d input pixels: r = 1 + 2L, or 1 + 4L with dilation 2
    layers = [nn.Conv2d(2, 2, 3, padding=dilation, dilation=dilation) for _ in range(4)]
    result = summary(nn.Sequential(*layers), (1, 2, 20, 20))
    fields = [rows_by_name(result)[str(i)].receptive_field for i in range(4)]
    assert fields == [(1 + growth * L, 1 + growth * L) for L in range(1, 5)]
    assert all(rows_by_name(result)[str(i)].jump == (1, 1) for i in range(4))


def test_a_stride_2_layer_doubles_the_jump():
    net = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, stride=2),  # r 3, j 2
                        nn.Conv2d(1, 1, 3, padding=1),            # r 3 + 2·2 = 7
                        nn.MaxPool2d(2),                          # r 7 + 1·2 = 9, j 4
                        nn.Conv2d(1, 1, 3, padding=1))            # r 9 + 2·4 = 17
    rows = rows_by_name(summary(net, (1, 1, 16, 16)))
    assert [(rows[n].receptive_field[0], rows[n].jump[0]) for n in "0123"] == \
        [(3, 2), (7, 2), (9, 4), (17, 4)]
    assert rows["2"].formula == "⌊(8 + 2·0 − 1·(2−1) − 1)/2⌋ + 1 = 4"


def test_pool_formulas_with_ceil_mode_and_average_pooling():
    net = nn.Sequential(nn.MaxPool2d(3, stride=3, padding=1, ceil_mode=True),
                        nn.AvgPool2d(2, ceil_mode=True))
    rows = rows_by_name(summary(net, (1, 1, 5, 5)))
    # ⌈(5 + 2 − 2 − 1)/3⌉ + 1 = 3, but the third window would start at 6 ≥ 5 + 1, inside the
    # padding, so PyTorch drops it: 2
    assert rows["0"].formula == "⌈(5 + 2·1 − 1·(3−1) − 1)/3⌉ + 1 − 1 = 2"
    assert rows["1"].formula == "⌈(2 + 2·0 − 1·(2−1) − 1)/2⌉ + 1 = 1"
    assert rows["1"].output_shape == (1, 1, 1, 1)


def test_transposed_conv_formula_count_and_receptive_field():
    net = nn.Sequential(nn.Conv2d(2, 2, 3, stride=2, padding=1),        # r 3, j 2
                        nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1),
                        nn.ConvTranspose2d(3, 3, 2, stride=2))
    rows = rows_by_name(summary(net, (1, 2, 14, 14)))
    up = rows["1"]
    assert up.formula == "(7 − 1)·2 − 2·1 + 1·(4−1) + 0 + 1 = 14"
    # the adjoint's count N·Cin·H·W·(Cout/groups)·kH·kW = 1·2·7·7·3·4·4
    assert up.mult_adds == 4704
    # taps 0..3 with stride 2: an output sees 2 taps of the same parity, one input apart:
    # r = 3 + 1·2 = 5, j = 2/2 = 1; a 2x2 stride-2 one sees one input: r stays, j halves
    assert up.receptive_field == (5, 5) and up.jump == (1, 1)
    assert rows["2"].receptive_field == (5, 5) and rows["2"].jump == (0.5, 0.5)


def test_adaptive_pool_covers_the_whole_map():
    net = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.AdaptiveAvgPool2d(1))
    pool = rows_by_name(summary(net, (1, 1, 8, 8)))["1"]
    assert pool.formula == "adaptive: 8 → output_size = 1"
    assert pool.receptive_field == (3 + 7, 3 + 7) and pool.jump == (8, 8)  # one bin of 8


def test_linear_counts_every_leading_dimension():
    result = summary(nn.Sequential(nn.Linear(4, 3)), (2, 5, 4))
    assert result.total_mult_adds == 2 * 5 * 3 * 4  # out·in per row of 4 features
    assert result.rows[1].receptive_field is None and result.rows[1].formula is None


def test_frozen_and_trainable_counts():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 1))
    net[0].requires_grad_(False)
    result = summary(net, (1, 3, 8, 8))
    assert (result.total_params, result.trainable_params) == (4 * 27 + 4 + 2 * 4 + 2, 10)
    first = rows_by_name(result)["0"]
    assert (first.trainable, first.frozen) == (0, 112)
    assert "Total params: 122 (trainable 10, frozen 112)" in str(result)
    assert "0 / 112" in str(result)


def test_shared_module_counts_its_parameters_once_and_its_work_twice():
    shared = nn.Linear(4, 4)
    result = summary(nn.Sequential(shared, nn.Tanh(), shared), (3, 4))
    calls = [row for row in result.rows if row.name == "0"]
    assert [row.params for row in calls] == [20, 0]
    assert result.total_params == 20
    assert result.total_mult_adds == 2 * 3 * 4 * 4


class Branches(nn.Module):
    """3x3 and 5x5 branches concatenated, then a 1x1 fuse: the Inception pattern."""

    def __init__(self):
        super().__init__()
        self.small = nn.Conv2d(2, 2, 3, padding=1)
        self.large = nn.Conv2d(2, 2, 5, padding=2)
        self.fuse = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        return self.fuse(mg.cat([self.small(x), self.large(x)], 1))


class Residual(nn.Module):
    """x + conv(conv(x)), the sum made outside any module: the ResNet pattern."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 2, 3, padding=1)
        self.conv2 = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(self.conv1(x))


def test_branches_take_the_largest_receptive_field():
    net = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1, stride=2), Branches(), Residual())
    rows = rows_by_name(summary(net, (1, 2, 16, 16)))
    # r 3, j 2; branches 3 + 2·2 = 7 and 3 + 4·2 = 11; the concatenation and the 1x1 fuse: 11
    assert [rows[n].receptive_field[0] for n in ("1.small", "1.large", "1.fuse", "1")] == \
        [7, 11, 11, 11]
    # the residual sum: max(11 (identity), 11 + 2·2 + 2·2 = 19) = 19, jump still 2
    assert rows["2"].receptive_field == (19, 19) and rows["2"].jump == (2, 2)


def test_rows_nest_parents_first_and_totals_do_not_double_count():
    net = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), Residual())
    result = summary(net, (1, 2, 6, 6))
    assert [(row.name, row.depth) for row in result.rows] == \
        [("", 0), ("0", 1), ("1", 1), ("1.conv1", 2), ("1.conv2", 2)]
    assert result.total_params == 3 * (2 * 2 * 9 + 2) == 114
    assert sum(row.params for row in result.rows) == 114
    block = rows_by_name(result)["1"]
    assert (block.params, block.subtree_params) == (0, 76)
    assert block.subtree_mult_adds == 2 * (2 * 6 * 6 * 2 * 9)  # its two convs
    assert "(76)" in str(result)


def test_several_inputs_and_modes_hooks_and_grad_restored():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)
            self.bn = nn.BatchNorm2d(1)

        def forward(self, x, y):
            return self.bn(self.conv(x)) + y

    model = Pair()
    model.bn.eval()  # a mixed mode, restored as it was
    seen = []
    model.conv.register_forward_hook(lambda m, args, out: seen.append(out.requires_grad))
    result = summary(model, [(1, 1, 5, 5), (1, 1, 3, 3)])
    assert (model.training, model.conv.training, model.bn.training) == (True, True, False)
    assert seen == [False]  # the forward ran under no_grad
    assert result.rows[0].output_shape == (1, 1, 3, 3)
    assert len(summary(model, [(1, 1, 5, 5), (1, 1, 3, 3)]).rows) == 3  # no leftover hooks


def test_runs_in_eval_mode_so_running_statistics_stay():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5))
    summary(model, (1, 1, 4, 4))
    assert model[1].num_batches_tracked == 0 and np.all(model[1].running_mean == 0)
    assert model.training


def test_parameters_of_modules_not_run_are_in_the_totals_and_said():
    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.spare = nn.Linear(2, 2), nn.Linear(2, 3)

        def forward(self, x):
            return self.used(x)

    result = summary(Unused(), (1, 2))
    assert result.total_params == 6 + 9
    assert "of which in modules this forward did not run: 9" in str(result)


@pytest.mark.parametrize("input_size, error, words", [
    ((1, 3, 0, 8), ValueError, r"input_size \(1, 3, 0, 8\) has a size below 1"),
    ("1x3x8x8", TypeError, r"input_size must be a size with the batch.*'1x3x8x8'"),
    ([(1, 3), "a"], TypeError, r"input_size must be"),
])
def test_bad_input_size_names_it(input_size, error, words):
    with pytest.raises(error, match=words):
        summary(nn.Linear(3, 3), input_size)


def test_bad_model_and_dtype_are_named():
    with pytest.raises(TypeError, match="model must be an nn.Module, got str"):
        summary("resnet18", (1, 3, 8, 8))
    with pytest.raises(TypeError, match="dtype must be a floating dtype.*int64"):
        summary(nn.Linear(3, 3), (1, 3), dtype=mg.int64)


# --- resnet18 at 224: one forward, checked against torchvision and published figures -------

@pytest.fixture(scope="module")
def resnet18_summary():
    from minigrad.models import resnet18
    return summary(resnet18(), (1, 3, 224, 224))


def test_resnet18_totals_match_the_published_figures(resnet18_summary):
    # torchvision's documentation: 11,689,512 parameters, 1.814 GFLOPS (multiply-adds)
    assert resnet18_summary.total_params == resnet18_summary.trainable_params == 11_689_512
    assert resnet18_summary.total_mult_adds == 1_814_073_344
    assert "Total mult-adds: 1.814 G (1,814,073,344)" in str(resnet18_summary)
    rows = rows_by_name(resnet18_summary)
    assert rows["conv1"].formula == "⌊(224 + 2·3 − 1·(7−1) − 1)/2⌋ + 1 = 112"
    assert rows["maxpool"].formula == "⌊(112 + 2·1 − 1·(3−1) − 1)/2⌋ + 1 = 56"
    # conv1 7 (j 2), maxpool 11 (j 4), layer1 +4·2·4 = 43, layer2 +2·4 +3·2·8 = 99,
    # layer3 +2·8 +3·2·16 = 211, layer4 +2·16 +3·2·32 = 435 (ResNet-18's published RF)
    assert [rows[n].receptive_field[0] for n in ("conv1", "maxpool", "layer1", "layer2",
                                                 "layer3", "layer4")] == \
        [7, 11, 43, 99, 211, 435]
    assert rows["layer4"].jump == (32, 32)


def test_resnet18_counts_equal_torchvisions_layer_by_layer(resnet18_summary,
                                                           torchvision_models):
    import torch

    model = torchvision_models.resnet18().eval()
    counts = {}

    def count(module, inputs, output):  # conv: per output value Cin/groups·kH·kW products
        if isinstance(module, torch.nn.Conv2d):
            per_output = module.in_channels // module.groups * module.kernel_size[0] * \
                module.kernel_size[1]
            counts[names[module]] = output.numel() * per_output
        else:  # linear: out·in per input row
            counts[names[module]] = inputs[0].numel() * module.out_features

    names = {module: name for name, module in model.named_modules()}
    for module in names:
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            module.register_forward_hook(count)
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    ours = {row.name: row.mult_adds for row in resnet18_summary.rows if row.mult_adds}
    assert ours == counts
    assert resnet18_summary.total_params == sum(p.numel() for p in model.parameters())
