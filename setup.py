from setuptools import find_packages, setup

setup(
    name="tfgan-zoo",
    version="0.1.0",
    description="A Keras 3 / TensorFlow 2 model zoo of GANs: DCGAN, conditional GAN, "
    "pix2pix and CycleGAN, trained with model.fit and exported as SavedModels.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["tfgan_zoo", "tfgan_zoo.*"]),
    # The shipped presets (python -m tfgan_zoo.presets list): weights, cards and their registry.
    package_data={"tfgan_zoo.presets": ["registry.json", "*/*.json", "*/*.h5", "*/*.keras", "*/*.md"]},
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.3",
        "tensorflow-datasets>=4.9",
        # tensorflow-datasets 4.9.10 imports it on its download path without depending on it.
        "importlib_resources",
        # PredictRequest protos for the TF Serving warmup file every export carries.
        "tensorflow-serving-api",
        "numpy",
        "opencv-python-headless",
        # The pixel cap reads picture headers before decoding; the demo page converts its images.
        "pillow",
        "matplotlib",
        "tensorboard",
    ],
    extras_require={
        # tf2onnx 1.17 is the first to take protobuf >= 4 (TensorFlow 2.21 needs 6) and numpy 2.
        "test": ["pytest>=7", "pytest-xdist", "ai-edge-litert", "tf2onnx>=1.17", "onnx>=1.14", "onnxruntime>=1.16"],
        # The demo page (python -m tfgan_zoo.demo) and its browser test.
        "demo": ["gradio", "playwright"],
        # Presets on the Hugging Face Hub (hf://USER/NAME); Keras itself uses it for hf:// paths.
        "hub": ["huggingface_hub"],
    },
    entry_points={"console_scripts": ["tfgan-zoo-report=tfgan_zoo.report:main"]},
)
