"""``python -m pysap_mri_dl_compat SCRIPT [ARGS...]``: run a pysap-mri script unchanged."""
import sys

from .run import main

sys.exit(main())
