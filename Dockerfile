# The platform image: the same locked environment as `make setup`, with the code.
FROM python:3.11-slim
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never PATH=/opt/venv/bin:$PATH
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /opt/ksp
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra production --no-install-project
# the production packages; the simulator (and its demo) stay out of the image
COPY ingestion ./ingestion
COPY warehouse ./warehouse
COPY serving ./serving
COPY orchestration ./orchestration
COPY dags ./dags
COPY dbt ./dbt
COPY expectations ./expectations
RUN uv sync --frozen --no-dev --extra production
ENV KSP_DATA_DIR=/data AIRFLOW_HOME=/data/airflow AIRFLOW__CORE__DAGS_FOLDER=/opt/ksp/dags
# the dbt manifest the build plan reads, parsed once into the image
RUN KSP_DATA_DIR=/tmp/ksp ksp manifest
