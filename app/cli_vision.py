"""Detection sub-commands of ``luma``: the model manager and single-frame detection.

``add_commands(subparsers)`` adds:

* ``luma models list [--json]`` — every model found (user folder, added
  files, installed packages) with task, classes, input size, license and
  source; files that are not usable models are listed as problems;
* ``luma models add PATH [--no-check]`` — record a .pt/.onnx file where it
  is (its metadata is read without running it; unless ``--no-check`` the
  model is also loaded once through the YOLO backend);
* ``luma models remove NAME|PATH`` — forget an added file (the file stays);
* ``luma detect VIDEO --frame N [--model NAME] [--conf C] [--imgsz PX] [--json]``
  — boxes on one frame, one ``[x1, y1, x2, y2, confidence, class]`` per line
  (a summary goes to stderr), or with ``--json``
  ``{"video", "frame", "model", "size", "names", "boxes": [...], "keypoints": [...]}``
  (``keypoints`` only for pose models: per box ``[[x, y, confidence], ...]``).
"""

from __future__ import annotations

import argparse
import json
import sys

from app.cli_util import guarded
from core.errors import LumaError


def _manager():
    from core.vision.models import ModelManager

    return ModelManager()


@guarded
def cmd_models_list(args: argparse.Namespace) -> int:
    manager = _manager()
    models, problems = manager.scan()
    for p in problems:
        print(f"luma: skipped {p.path}: {p.message}", file=sys.stderr)
    if args.json:
        json.dump({"models_dir": str(manager.models_folder), "models": [m.to_dict() for m in models],
                   "problems": [p.to_dict() for p in problems]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not models:
        print(manager.missing_message())
    else:
        rows = [("NAME", "TASK", "CLASSES", "IMGSZ", "LICENSE", "SOURCE", "PATH")]
        for m in models:
            classes = next(iter(m.classes.values())) if len(m.classes) == 1 else f"{len(m.classes)} classes"
            source = f"package {m.package}" if m.package else m.source
            rows.append((m.name, m.task, classes, str(m.imgsz), m.license, source, str(m.path)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
        print(f"models folder: {manager.models_folder}")
    return 0


@guarded
def cmd_models_add(args: argparse.Namespace) -> int:
    verify = verify_sam = None
    if not args.no_check:
        from core.vision.detect import verify_model, verify_sam

        verify = verify_model
    info = _manager().add(args.path, verify=verify, verify_sam=verify_sam)
    classes = "" if getattr(info, "is_sam", False) else f"{len(info.classes)} classes, "
    print(f"added {info.name}: {info.task}, {classes}imgsz {info.imgsz}, license {info.license} ({info.path})")
    return 0


@guarded
def cmd_models_remove(args: argparse.Namespace) -> int:
    path = _manager().remove(args.model)
    print(f"removed {path} from the added models (the file is left where it is)")
    return 0


@guarded
def cmd_detect(args: argparse.Namespace) -> int:
    from core.vision.detect import create_detector, detect_frame

    if not 0.0 <= args.conf <= 1.0:
        raise LumaError(f"--conf must be between 0 and 1, got {args.conf}")
    options = {"imgsz": args.imgsz} if args.imgsz else {}
    detector = create_detector(args.model, **options)
    dets, size = detect_frame(args.video, args.frame, detector, conf=args.conf)
    rows = dets.rows()
    if args.json:
        out = {"video": str(args.video), "frame": args.frame, "model": detector.name, "size": list(size),
               "names": {str(k): v for k, v in dets.names.items()}, "boxes": rows}
        if dets.keypoints is not None:
            out["keypoints"] = [[[round(float(v), 2) for v in point] for point in person]
                                for person in dets.keypoints]
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"{args.video} frame {args.frame} ({size[0]}x{size[1]}): {len(rows)} detections with {detector.name}",
          file=sys.stderr)
    for row in rows:
        print(json.dumps(row))
    return 0


def add_commands(subparsers) -> None:
    """Add ``models`` and ``detect`` to the ``luma`` sub-parsers."""
    p = subparsers.add_parser("models", help="detection models: list them, add one")
    actions = p.add_subparsers(dest="models_action", metavar="ACTION")
    actions.required = True
    pl = actions.add_parser("list", help="list the models found (user folder, added files, installed packages)")
    pl.add_argument("--json", action="store_true", help="print JSON")
    pl.set_defaults(func=cmd_models_list)
    pa = actions.add_parser("add", help="use a YOLO .pt or .onnx file where it is")
    pa.add_argument("path", metavar="PATH")
    pa.add_argument("--no-check", action="store_true", help="only read its metadata, do not load it once")
    pa.set_defaults(func=cmd_models_add)
    pr = actions.add_parser("remove", help="forget an added model file (the file is not deleted)")
    pr.add_argument("model", metavar="NAME|PATH")
    pr.set_defaults(func=cmd_models_remove)

    p = subparsers.add_parser("detect", help="detect people/objects on one frame of a video")
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("--frame", type=int, required=True, metavar="N", help="frame index (0 = first)")
    p.add_argument("--model", metavar="NAME",
                   help="a model from `luma models list`, or hog (default: the pose model if installed, else hog)")
    p.add_argument("--conf", type=float, default=0.25, metavar="C", help="minimum confidence 0..1 (default 0.25)")
    p.add_argument("--imgsz", type=int, default=None, metavar="PX",
                   help="YOLO input size, long side (default: 1.25 x the frame's, 640..960)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_detect)
