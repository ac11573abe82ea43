"""The zoo downloads nothing: torchvision's `weights=`/`progress=` are refused with a
message that says where weights come from instead."""


def refuse_weights(name, kwargs):
    """`kwargs` unchanged, after a TypeError if they hold torchvision's `weights` or
    `progress` (pretrained weights come from a state_dict, not a download)."""
    for key in ("weights", "progress"):
        if key in kwargs:
            raise TypeError(
                f"{name}: {key}={kwargs[key]!r} is not taken; minigrad downloads no weights. "
                f"Build the model, then load pretrained weights with "
                f"model.load_state_dict(state_dict), torchvision's state_dict as NumPy arrays "
                f"(python -m minigrad convert FILE.pth OUT.npz writes them from a checkpoint)")
    return kwargs
