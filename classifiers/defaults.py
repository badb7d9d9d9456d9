"""Training defaults the command line shows in its help.

They live apart from :mod:`classifiers.training` so that building the parser does not
import scikit-learn, SciPy and NumPy (seconds on a small machine).
"""

from __future__ import annotations

# Inverse regularisation strength of the linear SVM (see classifiers/training.py):
# None lets cross-validation inside the training data choose it.
DEFAULT_C: float | None = None
