"""`python3 mrs_qgis_plugin/synthetic_scene OUTDIR [options]`: write the scene with numpy and GDAL only."""

import sys
from pathlib import Path

if __package__:
    from . import main
else:  # run as a folder: import the package by its folder name
    sys.path[0] = str(Path(__file__).resolve().parents[1])
    from synthetic_scene import main

sys.exit(main())
