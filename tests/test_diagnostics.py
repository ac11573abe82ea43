"""minigrad.diagnostics: statistics with known answers (dead and saturated units, update
ratios from the SGD formula, ln C at initialisation), the checks pass and fail where they
must, and recording changes nothing."""
import copy

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.diagnostics as diagnostics
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.models import blocks
from minigrad.models.resnet import conv1x1


def standard_normal(*shape, seed=0):
    return mg.Tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def mlp(seed=0, classes=3):
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(),
                         nn.Linear(16, classes))


def record_forward(module, *batches):
    """A Monitor on `module` after forwarding each batch in one record() block."""
    monitor = diagnostics.Monitor(module)
    with monitor.record():
        for batch in batches:
            module(mg.Tensor(np.asarray(batch, np.float32)))
    return monitor


# --- activation statistics ---------------------------------------------------------------
def test_relu_with_bias_minus_ten_is_dead_and_a_healthy_one_is_not():
    # w.x on standardised inputs has std |w| ~ sqrt(20 / (3 * 20)) = 0.58 (U(+-1/sqrt(20))
    # weights): a bias of -10 is 17 of those below zero, so no unit ever fires; with bias 0 a
    # unit fires on about half the examples, silent on all 512 with probability 2^-512.
    x = standard_normal(512, 20)
    for bias, expected in ((-10.0, 1.0), (0.0, 0.0)):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(20, 50), nn.ReLU())
        nn.init.constant_(model[0].bias, bias)
        monitor = diagnostics.Monitor(model)
        with monitor.record():
            model(x)
        assert monitor.dead_fraction() == {"1": expected}


def test_a_unit_is_a_channel_of_a_feature_map_and_counts_over_all_batches():
    relu = nn.ReLU()
    first = -np.ones((2, 4, 3, 3))
    first[1, 0, 2, 1] = 0.5  # channel 0 fires once, at one pixel of one image
    second = -np.ones((1, 4, 3, 3))
    second[0, 3, 0, 0] = 2.0  # channel 3 fires only in the second batch
    monitor = record_forward(relu, first)
    assert monitor.dead_fraction() == {"ReLU": 3 / 4}
    with monitor.record():
        relu(mg.Tensor(second))
    assert monitor.dead_fraction() == {"ReLU": 2 / 4}  # channels 1 and 2 never fired


def test_linear_features_are_units_and_leaky_relu_is_not_watched_for_death():
    model = nn.Sequential(nn.ReLU(), nn.LeakyReLU())
    features = np.array([[1.0, -1.0, -2.0], [3.0, -1.0, 0.0]])  # feature 0 alone fires
    monitor = record_forward(model, features)
    assert monitor.dead_fraction() == {"0": 2 / 3}


def test_tanh_with_weights_times_ten_saturates_more_than_half():
    # pre-activations have std 10 * 0.58 = 5.8; |tanh(z)| > 0.99 needs |z| > atanh(0.99)
    # = 2.65, i.e. |N(0, 1)| > 0.46: probability 0.65
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 50), nn.Tanh())
    with mg.no_grad():
        model[0].weight.data *= 10
    monitor = diagnostics.Monitor(model)
    with monitor.record():
        model(standard_normal(512, 20))
    stats = monitor.activation_stats()
    assert 0.55 < stats["1"].fraction_saturated < 0.75
    assert stats["0"].fraction_saturated is None  # not a squashing layer


def test_saturation_margin_by_hand():
    # tanh(3) = 0.99505 and tanh(0.5) = 0.46; sigmoid(+-5) = 0.9933 / 0.0067, sigmoid(4.5) = 0.989
    tanh = record_forward(nn.Tanh(), [0.0, 3.0, -3.0, 0.5]).activation_stats()["Tanh"]
    sigmoid = record_forward(nn.Sigmoid(), [-5.0, 5.0, 0.0, 4.5]).activation_stats()["Sigmoid"]
    assert tanh.fraction_saturated == 0.5
    assert sigmoid.fraction_saturated == 0.5


def test_stats_of_known_values_across_batches():
    stats = record_forward(nn.Identity(), [1.0, -1.0, 0.0, 0.5], [3.0, 0.0]).activation_stats()
    s = stats["Identity"]
    values = [1.0, -1.0, 0.0, 0.5, 3.0, 0.0]  # mean 3.5 / 6, population std from the formula
    mean = 3.5 / 6
    assert s.mean == pytest.approx(mean)
    assert s.std == pytest.approx(np.sqrt(sum((v - mean) ** 2 for v in values) / 6))
    assert s.fraction_zero == 2 / 6
    assert s.fraction_saturated is None
    counts, edges = s.histogram
    # the first batch's max |x| is 1 -> range [-2, 2] (strictly beyond it); the 3 doubles
    # it -> [-4, 4], 512 bins of width 1/64: bin of v = (v + 4) * 64
    np.testing.assert_array_equal(edges, np.linspace(-4, 4, 513))
    expected = np.zeros(512, int)
    for bin_index in (320, 192, 256, 288, 448, 256):
        expected[bin_index] += 1
    np.testing.assert_array_equal(counts, expected)


@given(scales=st.lists(st.sampled_from([1e-3, 0.3, 1.0, 7.0, 300.0]), min_size=1, max_size=4),
       seed=st.integers(0, 100))
def test_histogram_equals_numpys_over_all_values_on_its_final_bins(scales, seed):
    rng = np.random.default_rng(seed)
    batches = [scale * rng.standard_normal(50) for scale in scales]
    s = record_forward(nn.Identity(), *batches).activation_stats()["Identity"]
    counts, edges = s.histogram
    all_values = np.concatenate(batches).astype(np.float32).astype(np.float64)
    expected, _ = np.histogram(all_values, edges)
    np.testing.assert_array_equal(counts, expected)
    assert np.abs(all_values).max() < edges[-1]  # every value inside the range
    assert s.mean == pytest.approx(all_values.mean(), abs=1e-12 * np.abs(all_values).max())
    assert s.std == pytest.approx(all_values.std(), rel=1e-6)  # float32 deviations


def test_gradient_stats_are_the_gradients_of_each_output():
    # loss = sum(3 * relu(x)): dloss/d(relu output) = 3 everywhere, d/d(scale output) = 1
    class Scale(nn.Module):
        def forward(self, x):
            return 3 * x
    model = nn.Sequential(nn.ReLU(), Scale())
    monitor = diagnostics.Monitor(model)
    x = mg.Tensor(np.array([[1.0, -2.0]]), requires_grad=True)
    with monitor.record():
        model(x).sum().backward()
    grads = monitor.gradient_stats()
    assert list(grads) == ["0", "1"]  # in model order, though backward reaches "1" first
    assert (grads["0"].mean, grads["0"].std) == (3.0, 0.0)
    assert (grads["1"].mean, grads["1"].std) == (1.0, 0.0)
    assert grads["0"].fraction_saturated is None


def test_only_record_blocks_are_recorded():
    model = mlp()
    monitor = diagnostics.Monitor(model, modules=nn.ReLU)
    model(standard_normal(8, 10))  # outside record(): not counted
    with monitor.record():
        model(standard_normal(4, 10))
    assert monitor.layers == ["1"]
    assert monitor.activation_stats()["1"].histogram[0].sum() == 4 * 32
    assert monitor.gradient_stats() == {}


# --- update ratios -------------------------------------------------------------------------
def test_update_ratios_are_lr_times_gradient_over_weight_for_sgd():
    # loss = mean over the N x 2 outputs of (W x + b - t)^2: dL/dW = 2/(2N) r x^T and
    # dL/db = 2/(2N) sum_n r with r = W x + b - t; SGD moves w by lr * g
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    layer = nn.Linear(3, 2).double()
    w, b = layer.weight.data.copy(), layer.bias.data.copy()
    lr = 0.1
    optimizer = optim.SGD(layer.parameters(), lr=lr)
    monitor = diagnostics.Monitor(layer)
    residual = x @ w.T + b - t
    grad_w, grad_b = residual.T @ x / 5, residual.sum(axis=0) / 5
    with monitor.record():
        optimizer.zero_grad()
        F.mse_loss(layer(mg.Tensor(x)), mg.Tensor(t)).backward()
        optimizer.step()
    ratios = monitor.update_ratios()
    assert ratios["weight"] == pytest.approx(lr * np.linalg.norm(grad_w) / np.linalg.norm(w))
    assert ratios["bias"] == pytest.approx(lr * np.linalg.norm(grad_b) / np.linalg.norm(b))


def test_update_history_has_one_entry_per_block_that_steps():
    model = mlp()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    monitor = diagnostics.Monitor(model)
    x, y = standard_normal(16, 10), mg.Tensor(np.arange(16) % 3)
    for step in range(3):
        with monitor.record():
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        with monitor.record():  # no step: no entry
            model(x)
    history = monitor.update_ratios(history=True)
    assert list(history) == [name for name, _ in model.named_parameters()]
    assert all(ratios.shape == (3,) for ratios in history.values())
    assert {name: ratios[-1] for name, ratios in history.items()} == monitor.update_ratios()


def test_update_ratio_of_an_all_zero_weight_is_nan():
    layer = nn.Linear(2, 1)
    nn.init.zeros_(layer.bias)
    monitor = diagnostics.Monitor(layer)
    with monitor.record():
        layer(mg.Tensor(np.ones((1, 2), np.float32))).sum().backward()
        optim.SGD(layer.parameters(), lr=0.1).step()
    assert np.isnan(monitor.update_ratios()["bias"])
    assert monitor.update_ratios()["weight"] > 0


# --- the monitor changes nothing and comes off ---------------------------------------------
def test_recording_changes_no_output_or_gradient_bit():
    plain = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 36, 3), nn.Sigmoid())
    watched = copy.deepcopy(plain)
    monitor = diagnostics.Monitor(watched)
    x = standard_normal(5, 3, 8, 8)
    results = []
    for model, recording in ((plain, False), (watched, True)):
        optimizer = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        outputs = []
        for _ in range(2):
            with monitor.record() if recording else mg.enable_grad():
                out = model(x)
                optimizer.zero_grad()
                out.sum().backward()
                optimizer.step()
            outputs.append(out.data)
        results.append((outputs, [p.grad for p in model.parameters()],
                        [p.data for p in model.parameters()]))
    for before, after in zip(*results):
        for a, b in zip(before, after):
            assert np.array_equal(a, b)
    assert len(monitor.activation_stats()) == 6  # the recording did happen


def test_remove_takes_the_hooks_off():
    model = mlp()
    monitor = diagnostics.Monitor(model)
    monitor.remove()
    monitor.recording = True  # as if inside record(): removed hooks still record nothing
    model(standard_normal(4, 10)).sum().backward()
    assert monitor.activation_stats() == {} and monitor.gradient_stats() == {}
    with pytest.raises(RuntimeError, match="removed"):
        monitor.record().__enter__()


def test_a_with_block_removes_the_monitor_and_keeps_its_records():
    model = mlp()
    with diagnostics.Monitor(model, modules=(nn.ReLU, nn.Tanh)) as monitor:
        with monitor.record():
            model(standard_normal(4, 10))
    model(standard_normal(4, 10))
    monitor.recording = True
    model(standard_normal(4, 10))
    assert list(monitor.activation_stats()) == ["1", "3"]
    assert monitor.activation_stats()["1"].histogram[0].sum() == 4 * 32


def test_monitor_refusals():
    with pytest.raises(TypeError, match="nn.Module"):
        diagnostics.Monitor(lambda x: x)
    with pytest.raises(TypeError, match="modules"):
        diagnostics.Monitor(mlp(), modules="ReLU")
    with pytest.raises(ValueError, match="Conv2d"):
        diagnostics.Monitor(mlp(), modules=nn.Conv2d)
    monitor = diagnostics.Monitor(mlp())
    with monitor.record(), pytest.raises(RuntimeError, match="nest"):
        with monitor.record():
            pass


# --- the checks before training ------------------------------------------------------------
def test_initial_loss_is_ln_c_with_a_zero_last_layer():
    model = mlp(classes=5)
    nn.init.zeros_(model[4].weight)
    nn.init.zeros_(model[4].bias)
    x, y = standard_normal(32, 10), mg.Tensor(np.arange(32) % 5)
    check = diagnostics.initial_loss_check(model, x, y)
    assert check["expected"] == pytest.approx(np.log(5))
    assert check["loss"] == pytest.approx(np.log(5), rel=1e-6)  # logits all 0: softmax 1/5
    assert check["ok"]
    with mg.no_grad():
        model[4].bias.data[:] = [20, 0, 0, 0, 0]  # confidently class 0: loss ~ 20 on 4/5
    assert not diagnostics.initial_loss_check(model, x, y)["ok"]


def test_initial_loss_check_changes_no_batchnorm_statistic_and_refuses_non_logits():
    model = nn.Sequential(nn.Linear(10, 3), nn.BatchNorm1d(3))
    diagnostics.initial_loss_check(model, standard_normal(8, 10), mg.Tensor(np.arange(8) % 3))
    np.testing.assert_array_equal(model[1].running_mean, np.zeros(3))
    with pytest.raises(ValueError, match=r"\(N, C, ...\)"):
        diagnostics.initial_loss_check(nn.Linear(10, 1), standard_normal(8, 10),
                                       mg.Tensor(np.zeros(8, int)))


def test_overfit_one_batch_succeeds_on_a_small_mlp_and_fails_with_lr_zero():
    model = mlp()
    x, y = standard_normal(8, 10), mg.Tensor(np.arange(8) % 3)
    weights = [p.data.copy() for p in model.parameters()]
    result = diagnostics.overfit_one_batch(model, x, y, steps=200)
    assert result["ok"] and result["final_loss"] < 0.05
    assert result["losses"].shape == (200,) and result["losses"][0] > 0.5
    frozen = diagnostics.overfit_one_batch(model, x, y, steps=20, lr=0.0)
    assert not frozen["ok"]
    assert np.all(frozen["losses"] == frozen["losses"][0])  # nothing moves
    for before, p in zip(weights, model.parameters()):
        assert np.array_equal(before, p.data)  # trained a copy
    with pytest.raises(ValueError, match="steps"):
        diagnostics.overfit_one_batch(model, x, y, steps=0)


def regression_loss(output, target):
    return F.mse_loss(output, target)


ZOO_BLOCKS = {  # block, input channels (8x8 inputs, batch 2)
    "BasicBlock": (lambda: blocks.BasicBlock(4, 4), 4),
    "BasicBlock, downsampling": (lambda: blocks.BasicBlock(
        4, 8, stride=2, downsample=nn.Sequential(conv1x1(4, 8, 2), nn.BatchNorm2d(8))), 4),
    "Bottleneck": (lambda: blocks.Bottleneck(16, 4), 16),
    "CifarBasicBlock": (lambda: blocks.CifarBasicBlock(4, 8, stride=2), 4),
    "DenseLayer": (lambda: blocks.DenseLayer(4, growth_rate=4, bn_size=2, drop_rate=0), 4),
    "DenseBlock": (lambda: blocks.DenseBlock(2, 4, bn_size=2, growth_rate=4, drop_rate=0), 4),
    "Transition": (lambda: blocks.Transition(8, 4), 8),
    "BasicConv2d": (lambda: blocks.BasicConv2d(3, 4, kernel_size=3, padding=1), 3),
    "Inception": (lambda: blocks.Inception(8, 2, 2, 4, 2, 4, 2), 8),
    "InceptionAux": (lambda: blocks.InceptionAux(8, 3), 8),  # dropout 0.7: a fixed mask
    "Conv2dNormActivation": (lambda: blocks.Conv2dNormActivation(3, 4), 3),
    "InvertedResidual": (lambda: blocks.InvertedResidual(4, 4, 1, 2), 4),
    "ASPP": (lambda: blocks.ASPP(4, (1, 2), out_channels=4), 4),
    "DoubleConv": (lambda: blocks.DoubleConv(3, 4), 3),
    "PyramidPooling": (lambda: blocks.PyramidPooling(8, bins=(1, 2), out_channels=2), 8),
}  # ZeroPadShortcut has no parameters to check


@pytest.mark.parametrize("name", ZOO_BLOCKS)
def test_gradcheck_model_passes_on_model_zoo_blocks(name):
    make, channels = ZOO_BLOCKS[name]
    mg.manual_seed(0)
    block = make()
    x = standard_normal(2, channels, 8, 8)
    target = mg.Tensor(np.random.default_rng(1).standard_normal(block(x).shape))
    weights = {key: p.data.copy() for key, p in block.named_parameters()}
    assert diagnostics.gradcheck_model(block, x, target, regression_loss, directions=2)
    for key, p in block.named_parameters():
        assert p.dtype == np.float32 and np.array_equal(p.data, weights[key])  # unchanged


class SquareWithWrongBackward(mg.Function):
    """y = x^2 with backward returning grad * x: the factor 2 forgotten."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * x


class Square(nn.Module):
    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x):
        return self.function.apply(x)


class RightSquare(SquareWithWrongBackward):
    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * 2 * x


def test_gradcheck_model_catches_a_wrong_custom_backward_and_names_the_parameter():
    mg.manual_seed(0)
    x, y = standard_normal(6, 4), mg.Tensor(np.arange(6) % 3)
    for function, passes in ((RightSquare, True), (SquareWithWrongBackward, False)):
        model = nn.Sequential(nn.Linear(4, 5), Square(function), nn.Linear(5, 3))
        assert diagnostics.gradcheck_model(model, x, y, F.cross_entropy,
                                           raise_exception=False) is passes
    with pytest.raises(mg.GradcheckError, match=r"parameter '0\.weight'.*analytic"):
        diagnostics.gradcheck_model(model, x, y, F.cross_entropy)
    with pytest.raises(ValueError, match="directions"):
        diagnostics.gradcheck_model(model, x, y, F.cross_entropy, directions=0)


def test_gradcheck_model_inside_record_does_not_record_the_copy():
    model = mlp()
    monitor = diagnostics.Monitor(model)
    x, y = standard_normal(4, 10), mg.Tensor(np.arange(4) % 3)
    with monitor.record():
        model(x)
        diagnostics.gradcheck_model(model, x, y, F.cross_entropy, directions=1)
    assert monitor.activation_stats()["0"].histogram[0].sum() == 4 * 32
    assert monitor.gradient_stats() == {}


# --- plots ---------------------------------------------------------------------------------
@pytest.fixture
def trained_monitor():
    model = mlp()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    monitor = diagnostics.Monitor(model)
    x, y = standard_normal(16, 10), mg.Tensor(np.arange(16) % 3)
    for _ in range(3):
        with monitor.record():
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
    yield monitor
    plt.close("all")


@pytest.mark.parametrize("plot, title", [
    (diagnostics.plot_activation_histograms, "Activations"),
    (diagnostics.plot_gradient_histograms, "Gradients")])
def test_histogram_plots_one_row_per_layer_on_a_shared_x_axis(trained_monitor, plot, title):
    fig = plot(trained_monitor)
    axes = fig.axes
    assert len(axes) == 5 and fig._suptitle.get_text().startswith(title)
    assert [ax.get_ylabel() for ax in axes] == trained_monitor.layers
    assert all(axes[0].get_shared_x_axes().joined(axes[0], ax) for ax in axes[1:])
    assert axes[-1].get_xlabel().endswith("value")
    fig = plot(trained_monitor, layers=["1", "3"])
    assert [ax.get_ylabel() for ax in fig.axes] == ["1", "3"]
    with pytest.raises(ValueError, match="'9'"):
        plot(trained_monitor, layers=["9"])


def test_histogram_plot_draws_into_given_axes(trained_monitor):
    fig, axes = plt.subplots(1, 2)
    assert diagnostics.plot_activation_histograms(trained_monitor, ["1", "3"], axes) is fig
    with pytest.raises(ValueError, match="one Axes per layer"):
        diagnostics.plot_activation_histograms(trained_monitor, ["1"], axes)


def test_dead_units_and_update_ratio_plots(trained_monitor):
    fig = diagnostics.plot_dead_units(trained_monitor)
    (ax,) = fig.axes
    assert [label.get_text() for label in ax.get_yticklabels()] == ["1"]
    assert ax.get_xlim() == (0, 1) and "dead" in ax.get_xlabel()
    fig = diagnostics.plot_update_ratios(trained_monitor)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "|Δw| / |w|"
    lines = {line.get_label(): line for line in ax.get_lines()}
    history = trained_monitor.update_ratios(history=True)
    np.testing.assert_array_equal(lines["4.weight"].get_ydata(), history["4.weight"])
    np.testing.assert_array_equal(lines["4.weight"].get_xdata(), [1, 2, 3])
    assert lines["rule of thumb 1e-3"].get_ydata()[0] == 1e-3
    assert set(lines) == {"0.weight", "2.weight", "4.weight", "rule of thumb 1e-3"}  # no bias
    fig = diagnostics.plot_update_ratios(history, parameters=["4.bias"])
    assert [line.get_label() for line in fig.axes[0].get_lines()][0] == "4.bias"
    with pytest.raises(ValueError, match="'9.bias'"):
        diagnostics.plot_update_ratios(history, parameters=["9.bias"])


def test_histogram_x_axis_leaves_out_rare_outliers():
    # one outlier in 10 000 sets the range to [-1024, 1024], 512 bins of width 4; the
    # outer 10 values at each end (100 and 1000 above) lie in [-100, -96) and [96, 100]:
    # with 5 % of 200 as padding the axis spans -110 to 110
    values = np.r_[np.linspace(-100, 100, 9999), 1000.0]
    fig = diagnostics.plot_activation_histograms(record_forward(nn.Identity(), values))
    assert fig.axes[0].get_xlim() == pytest.approx((-110, 110))
    plt.close(fig)


def test_gradcheck_model_checks_dropout_with_one_mask_and_leaves_the_random_stream():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    x, y = standard_normal(6, 4), mg.Tensor(np.arange(6) % 3)
    mg.manual_seed(5)
    expected_next = mg.rand(3).data
    mg.manual_seed(5)
    assert diagnostics.gradcheck_model(model, x, y, F.cross_entropy)
    np.testing.assert_array_equal(mg.rand(3).data, expected_next)


def test_an_overflowed_layer_reports_inf_and_nan_and_keeps_a_histogram_of_the_rest():
    with np.errstate(over="ignore"):
        s = record_forward(nn.Identity(), [1.0, np.inf, -0.5]).activation_stats()["Identity"]
    assert s.mean == np.inf and np.isnan(s.std)
    assert s.histogram[0].sum() == 2 and s.histogram[1][-1] == 2.0


def test_histogram_plot_merges_bins_to_about_sixty_visible_bars():
    # values in [-1, 1): range [-2, 2], 512 bins of width 1/128; the axis shows about 2.2,
    # i.e. 282 bins: groups of 4 (282 / 4 = 70 bars; groups of 8 would leave 35 < 60)
    values = np.linspace(-1, 0.99, 4000)
    fig = diagnostics.plot_activation_histograms(record_forward(nn.Identity(), values))
    (bars,) = fig.axes[0].patches
    heights, edges = bars.get_data().values, bars.get_data().edges
    assert edges[1] - edges[0] == pytest.approx(4 / 128)
    assert heights.sum() == pytest.approx(1.0)  # fractions of all values
    plt.close(fig)


def test_a_vanished_layer_is_one_bar_beside_a_wide_one():
    wide, tiny = (record_forward(nn.Identity(), scale * np.linspace(-1, 1, 100))
                  .activation_stats()["Identity"] for scale in (1, 1e-9))
    fig = diagnostics.plot_activation_histograms({"wide": wide, "tiny": tiny})
    (bar,) = fig.axes[1].patches
    assert bar.get_data().values.tolist() == [1.0]  # all 512 bins in one: a spike at 0
    plt.close(fig)


def test_a_relu_shared_by_layers_of_two_widths_counts_the_units_of_both():
    # as a Bottleneck's one ReLU after its width-4 convs and its 16-channel output: here 3
    # features (one fires) and 5 features (none fires): 2 + 5 dead of 8
    relu = nn.ReLU()
    monitor = record_forward(relu, [[1.0, -1.0, -1.0]], [[-1.0] * 5])
    assert monitor.dead_fraction() == {"ReLU": 7 / 8}
