from setuptools import find_packages, setup

setup(
    name="tfgan-zoo",
    version="0.1.0",
    description="A Keras 3 / TensorFlow 2 model zoo of GANs: DCGAN, conditional GAN, "
    "pix2pix and CycleGAN, trained with model.fit and exported as SavedModels.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["tfgan_zoo", "tfgan_zoo.*"]),
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.3",
        "tensorflow-datasets>=4.9",
        "numpy",
        "opencv-python-headless",
        "matplotlib",
        "tensorboard",
    ],
    extras_require={"test": ["pytest>=7"]},
    entry_points={"console_scripts": ["tfgan-zoo-report=tfgan_zoo.report:main"]},
)
