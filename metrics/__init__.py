"""The three desiderata of Spectrum Suite as `evaluate` metric modules.

Each sub-folder is a self-contained `evaluate` module (``evaluate.load("metrics/<name>")`` copies only the
folder's own files), and also an ordinary package, so that code such as the model-side scoring can import
``metrics.coverage.validators.clean_generation`` directly once the project is installed.
"""
