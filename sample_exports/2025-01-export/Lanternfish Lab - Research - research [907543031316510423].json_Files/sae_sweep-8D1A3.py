"""Sweep launcher for the 16k/65k SAE comparison (Lanternfish Lab, fictional)."""

import itertools
import json
import subprocess

L1 = [4e-5, 8e-5, 1.6e-4]
D_SAE = [16384, 65536]
LAYERS = [4, 8]

for i, (l1, d, layer) in enumerate(itertools.product(L1, D_SAE, LAYERS)):
    cfg = {"l1_coeff": l1, "d_sae": d, "layer": layer, "seed": 1000 + i}
    subprocess.run(["sbatch", "train_sae.sh", json.dumps(cfg)], check=True)
