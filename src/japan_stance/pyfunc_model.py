"""MLflow "models from code" entry: the pyfunc logged with every trained StanceModel.

MLflow runs this file when it loads the model; it must only declare the model.
"""

from mlflow.models import set_model

from japan_stance.tracking import StancePyFunc

set_model(StancePyFunc())
