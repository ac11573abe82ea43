"""The course's networks with torchvision's names, arguments and state_dict keys:
`import minigrad.models as models` (laid out as torchvision/models)."""
