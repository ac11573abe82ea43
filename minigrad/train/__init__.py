"""The `python -m minigrad train TASK` command: one loop (loop.py: progress, checkpoints,
resume) and one small `Task` class per task. TASKS maps each sub-command to its class; a new
task is a module with a `Task` subclass and one entry here."""
from .classify import ClassifyTask
from .detect import DetectTask
from .loop import CHECKPOINT, OptionError, Run, Task, load_pretrained, read_meta
from .segment import SegmentTask

TASKS = {"classify": ClassifyTask, "detect": DetectTask, "segment": SegmentTask}
