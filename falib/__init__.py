"""falib: feedback alignment (Lillicrap et al. 2016) on NumPy and PyTorch."""
from .backend import Backend
from .claims import Claim, Claims
from .experiments import get, names, reproduce
from .metrics import angle, classification_error, normalized_squared_error
from .networks import Network
from .results import Results, ResultsError
from .rules import RULES, make_rule
from .training import DivergenceError, train

__version__ = "0.1.0"
__all__ = ["Backend", "Claim", "Claims", "DivergenceError", "Network", "RULES", "Results",
           "ResultsError", "angle", "classification_error", "get", "make_rule", "names",
           "normalized_squared_error", "reproduce", "train"]
