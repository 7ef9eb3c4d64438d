"""Find the feed-forward output projections' outlier channels and write them to vectorstore/outlier_channels.json.

    python bench/calibrate_outliers.py [--check]

The default int8 export (``vectorstore.onnx_export.OUTLIERS_APART``) keeps,
in each layer's feed-forward output projection, the input channels with the
highest absolute peaks in fp32. This script runs the fp32 export (made in a
temp dir from the packaged weights) over the bundled sample articles and
prints the channels per layer. It writes them only without ``--check``;
with it, it says how many of the shipped ones calibration finds again.

The shipped file is what exports read, so that every machine makes the same
int8 file. Changing it changes that file: give the recipe a new file name
(``export4``) when it changes, or stores embedded with the old file would be
refused on new replicas.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vectorstore.model_files import packaged_model_dir  # noqa: E402
from vectorstore.onnx_export import (  # noqa: E402
    OUTLIER_CHANNELS,
    OUTLIER_CHANNELS_FILE,
    calibrate_outlier_channels,
    ensure_exported,
    shipped_outlier_channels,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the shipped channels instead of writing them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as models:
        fp32, _ = ensure_exported(packaged_model_dir(), Path(models))
        found = calibrate_outlier_channels(fp32, packaged_model_dir())
    for layer, channels in enumerate(found):
        print(f"layer {layer}: {channels}")
    if args.check:
        shipped = shipped_outlier_channels()
        for layer, (mine, theirs) in enumerate(zip(found, shipped, strict=True)):
            print(f"layer {layer}: {len(set(mine) & set(theirs))} of {OUTLIER_CHANNELS} shipped channels found again")
        return
    about = ("per layer, the feed-forward output projection's input channels kept in fp32 by the default int8 export; "
             "written by bench/calibrate_outliers.py")
    rows = ",\n".join(f"  {json.dumps(channels)}" for channels in found)  # a layer to a line
    OUTLIER_CHANNELS_FILE.write_text(f'{{\n "about": {json.dumps(about)},\n "channels": [\n{rows}\n ]\n}}\n', encoding="utf-8")
    print(f"wrote {OUTLIER_CHANNELS_FILE}")


if __name__ == "__main__":
    main()
