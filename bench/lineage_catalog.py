#!/usr/bin/python3
"""Fill a bench catalog's lineage tables for bench/lineage.sh: every file without a fingerprint
gets a copy of the one real fingerprint in the catalog (a scanned SD1 checkpoint) with its block
sketches perturbed, and the matching fold, so that the models differ as a real family does: 200
close relatives of the scanned model (noise 5% of each block's sketch), the rest far (50%).
With more than FULL (10,000) models only the relatives get a full fingerprint blob (the blobs are
~100 KB each; a query reads the blobs of its 64 nearest only, all among the relatives), the rest
only their fold (what every query reads).
usage: lineage_catalog.py DB
"""
import sqlite3, struct, sys
import numpy as np

FULL, RELATIVES, K = 10_000, 200, 256
BLOCK_BYTES = 8 + 2 + 1 + 1 + 8 + 8 + 8 + 4 * K

db = sqlite3.connect(sys.argv[1])
fam, fp = db.execute("SELECT l.family, f.fp FROM lineage l JOIN lineage_fp f USING (file_id)"
                     " LIMIT 1").fetchone()
ids = [r[0] for r in db.execute(
    "SELECT id FROM files WHERE id NOT IN (SELECT file_id FROM lineage) ORDER BY id")]
nb = struct.unpack_from("<I", fp, 16)[0]
base = np.frombuffer(fp, np.uint8)
offs = [24 + i * BLOCK_BYTES for i in range(nb)]
names = [bytes(fp[o:o + 8]) for o in offs]
sk = np.stack([np.frombuffer(fp, np.float32, K, o + 36) for o in offs])  # nb x K
rms = np.sqrt((sk.astype(np.float64) ** 2).mean(1, keepdims=True)).astype(np.float32) + 1e-12
rng = np.random.default_rng(7)
rel = set(rng.choice(len(ids), min(RELATIVES, len(ids)), replace=False).tolist())
full = len(ids) + 1 <= FULL
folds, fps = [], []
for i, fid in enumerate(ids):
    s = (sk + rng.standard_normal(sk.shape, np.float32) * rms * (0.05 if i in rel else 0.5)
         ).astype(np.float32)
    f16 = s.reshape(nb, K // 16, 16).sum(1, dtype=np.float32)
    fold = b"LF2\0" + struct.pack("<I", nb) + b"".join(
        names[b] + f16[b].tobytes() for b in range(nb))
    folds.append((fid, fam, fold))
    if full or i in rel:
        blob = base.copy()
        for b, o in enumerate(offs):
            blob[o + 36:o + 36 + 4 * K] = s[b].view(np.uint8)
        fps.append((fid, blob.tobytes()))
    if len(folds) >= 2000:
        db.executemany("INSERT INTO lineage(file_id, family, fold) VALUES(?,?,?)", folds)
        db.executemany("INSERT INTO lineage_fp(file_id, fp) VALUES(?,?)", fps)
        folds, fps = [], []
db.executemany("INSERT INTO lineage(file_id, family, fold) VALUES(?,?,?)", folds)
db.executemany("INSERT INTO lineage_fp(file_id, fp) VALUES(?,?)", fps)
db.commit()
