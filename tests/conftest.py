"""Test set-up: quiet TF, two logical CPU devices for MirroredStrategy tests."""

import gc
import importlib.util
import os
import runpy
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One OpenBLAS thread (read when numpy loads): numpy's matrix products here (KID, the
# precision/recall radii) run no faster on two threads, which spin on a core the other
# test process needs (measured: KID of 2,891 x 500 features, 1.6 s on two threads and
# 1.7 s on one alone; 4.0 s and 3.1 s beside two busy processes).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def pytest_configure(config):
    if getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput"):
        return  # pytest-xdist's first process runs no test: a TensorFlow import would hold up the workers' start
    configure_tensorflow()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """A pytest-xdist worker ends here, its results sent: without the interpreter's
    teardown of a heap of models and graphs and TensorFlow's exit handlers, 7.4 s
    after the last test of the contract and TFLite files in one process (2.7 s of
    exit handlers, 4.1 s of teardown), which the run's end waits for."""
    if hasattr(config, "workerinput"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def configure_tensorflow():
    """Two logical CPUs; on CPU, XLA's backend optimisation and Grappler off. Runs before
    any test module is imported, so before TensorFlow initialises its devices (before any op)."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    # On CPU, LLVM's optimization of XLA's generated code is a fifth of a compiled step's
    # compile time and buys nothing at these sizes. XLA reads its flags at its first
    # compile, so this still applies; the processes the tests start inherit it. A GPU
    # machine (bench/device_check.py) compiles as users do.
    xla_flags = os.environ.get("XLA_FLAGS", "")
    if not tf.config.list_physical_devices("GPU") and "--xla_backend_optimization_level" not in xla_flags:
        os.environ["XLA_FLAGS"] = f"{xla_flags} --xla_backend_optimization_level=0".strip()
    # Grappler's graph rewrites take a tenth of a tiny model's first compiled step on CPU and
    # buy nothing at these sizes (measured: a one-epoch CycleGAN fit, 7.4 s with them, 6.2 s
    # without). The rewrites keep a graph's meaning, so the tests check the same steps; a GPU
    # machine (bench/device_check.py) keeps them, as users run.
    if not tf.config.list_physical_devices("GPU"):
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """The development data folder: $TFGAN_ZOO_DATA, else ../shared/data beside the repo."""
    for candidate in (os.environ.get("TFGAN_ZOO_DATA"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "mnist").is_dir():
            return Path(candidate)
    return None


def load_script(path: Path):
    """The script at ``path`` as a module (bench/ and studies/ hold scripts, not
    packages). Its folder is on ``sys.path`` while it loads, as when the script
    runs, so that it can import its siblings."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def run_script(path: Path, *argv) -> None:
    """``python PATH ARGV...`` in this process: the script runs as ``__main__``
    (``runpy``), its output goes to the test's ``capsys`` and its ``SystemExit``
    to the test. A subprocess would add a TensorFlow start, about 5 CPU-seconds;
    the tests that need one (kills, races, a fresh interpreter) start processes."""
    saved = sys.argv
    sys.argv = [str(path), *map(str, argv)]
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        sys.argv = saved


class _Parsed(Exception):
    pass


_script_parsers = {}


def script_parser(script: str):
    """The full parser of ``experiments/<script>.py``, with the options the script
    adds itself (the script's ``main`` runs up to its ``parse_spec``); its
    ``excluded`` attribute names the family options the script sets from its data."""
    from tfgan_zoo import experiment

    if script not in _script_parsers:
        module = load_script(REPO / "experiments" / f"{script}.py")
        real = experiment.family_parser

        def capture(*args, **kwargs):
            parser = real(*args, **kwargs)
            parser.excluded = tuple(kwargs.get("exclude", ()))
            _script_parsers[script] = parser

            def stop(*_, **__):
                raise _Parsed

            parser.parse_spec = stop  # the script has added its own options by the time it parses
            return parser

        experiment.family_parser = capture
        try:
            with pytest.raises(_Parsed):
                module.main()
        finally:
            experiment.family_parser = real
    return _script_parsers[script]


# Seconds each file's tests take in the full suite (two workers; pytest --junitxml,
# 2026-12-07 evening), the files over about 10 s. pytest-xdist hands out whole files in
# collection order (pytest.ini: --dist loadfile --no-loadscope-reorder): starting the
# longest ones first keeps one worker from running a long file alone at the end. Its own
# reordering, by number of tests, put long files last and left a tail of about a minute
# and a half; a long file missing here (test_presets.py, 59 s) left one of 25 s.
LONGEST_FILES = {
    "test_family_contract.py": 134, "test_device_check.py": 78, "test_multiworker.py": 78, "test_run_safety.py": 49,
    "test_experiment.py": 47, "test_run_identity.py": 37, "test_pix2pix.py": 36, "test_presets.py": 34,
    "test_diagnostics.py": 33, "test_keras_user.py": 32, "test_tflite.py": 25, "test_small_data.py": 24,
    "test_serving.py": 23, "test_cyclegan.py": 22, "test_metrics.py": 18, "test_caches.py": 17, "test_demo.py": 17,
    "test_training.py": 14, "test_folder_experiments.py": 13, "test_keras_contract.py": 13,
    "test_pix2pix_reference.py": 12, "test_layout.py": 11, "test_pix2pix_ablations.py": 10,
}


def pytest_collection_finish(session):
    # Collection leaves the modules of TensorFlow, Keras and the tests: millions of objects
    # that live to the end and that each full garbage collection would scan again. Frozen,
    # they are skipped; and a tracing test allocates objects by the hundred thousand, so
    # collections start later than Python's default 700 allocations. Measured on the contract
    # and TFLite files (one process): 27.5 s of garbage collection (202 s wall) as Python
    # sets it, 22.0 s (193 s) frozen, 17.2 s (168 s) frozen with these thresholds.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: -LONGEST_FILES.get(item.path.name, 0))  # stable: file order kept within


@pytest.fixture(scope="session")
def study_module():
    """``study_module("pix2pix_vs_tutorial", "pix2pix_reference")``: the script
    ``studies/<study>/<name>.py`` imported as a module."""
    return lambda study, name: load_script(REPO / "studies" / study / f"{name}.py")


@pytest.fixture
def data_dir():
    path = shared_data_dir()
    if path is None:
        pytest.skip("MNIST IDX files not found: set TFGAN_ZOO_DATA to the shared data folder")
    return path


@pytest.fixture(autouse=True)
def float32_policy():
    import keras

    keras.mixed_precision.set_dtype_policy("float32")
    yield
    keras.mixed_precision.set_dtype_policy("float32")


@pytest.fixture(scope="session")
def mirrored():
    """One MirroredStrategy for the whole session: over two GPUs where there are
    two (bench/device_check.py runs the replica tests there), else over the 2 logical CPUs.

    Each strategy numbers its collective ops from the same start, so a second
    strategy in the same process can pair its synchronized batch-norm
    all-reduce with a stale one of the first ("Shape mismatch in the
    collective instance").
    """
    import tensorflow as tf

    devices = tf.config.list_logical_devices("GPU")
    if len(devices) < 2:
        devices = tf.config.list_logical_devices("CPU")
    if len(devices) < 2:
        pytest.skip("needs 2 logical CPU devices (configured above)")
    return tf.distribute.MirroredStrategy([d.name for d in devices[:2]])


def adam():
    import keras

    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def write_image(path, image):
    """Writes an RGB, RGBA or grey uint8 array as an image file (through OpenCV, which wants BGR(A))."""
    import cv2

    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[-1] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, encoded = cv2.imencode(path.suffix, image)
    assert ok
    encoded.tofile(path)
    return path


def solid(value, size=8, channels=3):
    """A uint8 image of one value."""
    return np.full((size, size, channels), value, np.uint8)


@pytest.fixture(scope="session")
def family_exports(tmp_path_factory):
    """``{family: (model, version folder)}``: each registry family (tests/families.py)
    exported once per test process through ``tfgan_zoo.export.save``, shared by the
    modules that read exports (they write beside them, never into them)."""
    from families import FAMILIES

    from tfgan_zoo import export

    root = tmp_path_factory.mktemp("exports")
    return {name: (model, export.save(model, root / name))
            for name, model in ((name, family.build()) for name, family in FAMILIES.items())}


@pytest.fixture(scope="module")
def tflite_conversions_without_full_collections():
    """``TFLiteConverter.convert`` ends with ``gc.collect()`` for the memory of the SavedModel it
    loaded: a full collection of a test process that holds many models, 0.5 to 2 s each. The
    interpreter's own collections free that memory a little later. (test_tflite.py's
    conversions took 54 s of a suite run with them, 25 s of the next without.)"""
    import types

    from tensorflow.lite.python import lite

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lite, "gc", types.SimpleNamespace(collect=lambda *args: 0))
        yield


@pytest.fixture(scope="session")
def fork_server(tmp_path_factory):
    """The :class:`forkserver.ForkServer` of this test run: the tests that need processes of
    their own start them through it, without a TensorFlow import each. pytest-xdist's
    workers share one, started by the first that needs it; it ends with the run."""
    from forkserver import ForkServer

    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run:  # a worker: its parent is the run's first process
        return ForkServer.shared(tmp_path_factory.getbasetemp().parent / f"forkserver-{run[:12]}", os.getppid())
    return ForkServer.shared(tmp_path_factory.getbasetemp() / "forkserver", os.getpid())
