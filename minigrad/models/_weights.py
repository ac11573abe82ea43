"""The zoo downloads nothing: torchvision's `weights=` is accepted only as None (the usual
`resnet18(weights=None)`), with a message that says where weights come from otherwise."""


def refuse_weights(name, kwargs):
    """`kwargs` without torchvision's `weights` and `progress`, after a TypeError if
    `weights` names pretrained weights (they come from a state_dict, not a download)."""
    kwargs = dict(kwargs)
    weights = kwargs.pop("weights", None)
    kwargs.pop("progress", None)  # a download's progress bar: nothing to show
    if weights is not None:
        raise TypeError(
            f"{name}: weights={weights!r} is not taken; minigrad downloads no weights. "
            f"Build the model, then load pretrained weights with "
            f"model.load_state_dict(state_dict), torchvision's state_dict as NumPy arrays "
            f"(python -m minigrad convert FILE.pth OUT.npz writes them from a checkpoint)")
    return kwargs
