"""Option combinations that a run's networks, evaluators or labels cannot take,
found from the options (and a labels CSV or folder names) before any data loads
or training starts; the command line (:mod:`tfgan_zoo.experiment.cli`) ends
them as usage errors. Each rule is read from the code it guards: the image
sizes from the networks' own checks, the fewest images an evaluation can score
from its measures, the fewest classes from the family's declared
``num_classes`` range. Each check returns the problem's message, or None.
"""

from __future__ import annotations

from pathlib import Path

from tfgan_zoo import options
from tfgan_zoo.data.folder import SUBFOLDERS, folder_class_names
from tfgan_zoo.experiment.evaluators import NEIGHBOURS
from tfgan_zoo.models import ACGAN, DCGAN, CycleGAN, Pix2Pix
from tfgan_zoo.networks.dcgan import upsampling_plan
from tfgan_zoo.networks.patchgan import check_patch_layers
from tfgan_zoo.networks.resnet import check_image_size as check_resnet_size
from tfgan_zoo.networks.unet import unet_depth
from tfgan_zoo.runs import RunSpec


def _dcgan_networks(size: int, chosen: dict) -> None:
    upsampling_plan((size, size, 3))  # the folders' colour images; channels do not change the plan


def _unet_and_patchgan(size: int, chosen: dict) -> None:
    unet_depth(size, chosen["g_depth"])
    check_patch_layers(size, chosen["d_layers"])


def _resnet_and_patchgan(size: int, chosen: dict) -> None:
    check_resnet_size(size)
    check_patch_layers(size, chosen["d_layers"])


# Per family: its networks' check of a square image size (a ValueError saying
# why not), and the family options that check depends on.
_NETWORKS = (
    ((DCGAN, ACGAN), _dcgan_networks, ()),
    ((Pix2Pix,), _unet_and_patchgan, ("g_depth", "d_layers")),
    ((CycleGAN,), _resnet_and_patchgan, ("d_layers",)),
)
# How far above the asked size to look for one that works: a U-Net of depth 12 takes multiples of 4096.
_SEARCH = 2**13


def image_size_problem(family: type, size: int, chosen: dict) -> str | None:
    """Why ``family``'s networks cannot take ``size`` x ``size`` images with the
    family options ``chosen`` (``{"g_depth": 5, ...}``), with the nearest sizes
    they can take; None when they can (or the family has no rule here)."""
    for families, check, depends_on in _NETWORKS:
        if issubclass(family, families):
            break
    else:
        return None

    def takes(candidate: int) -> bool:
        try:
            check(candidate, chosen)
        except ValueError:
            return False
        return True

    try:
        check(size, chosen)
    except ValueError as error:
        reason = str(error).rstrip(".")
    else:
        return None
    below = next((candidate for candidate in range(size - 1, 0, -1) if takes(candidate)), None)
    above = next((candidate for candidate in range(size + 1, size + _SEARCH) if takes(candidate)), None)
    nearest = " and ".join(str(candidate) for candidate in (below, above) if candidate is not None)
    given = [f"--{name.replace('_', '-')} {chosen[name]}" for name in depends_on if chosen.get(name) is not None]
    options_text = f" with {', '.join(given)}" if given else ""
    return (f"{family.__name__}'s networks cannot take {size}x{size} images{options_text} ({reason}). "
            + (f"The nearest sizes they take: {nearest}." if nearest else "No size near it works: change those options."))


def fewest_scored(family: type) -> tuple[int, str]:
    """``(count, why)``: the fewest images per evaluation that ``family``'s evaluator can score."""
    if issubclass(family, CycleGAN):
        return 2, "FID and KID of each domain need 2"
    if issubclass(family, Pix2Pix):
        return 1, "the validation pairs' L1, PSNR and SSIM need 1"
    return NEIGHBOURS + 1, f"FID needs 2, and precision/recall more than its {NEIGHBOURS} nearest neighbours"


def class_count_problem(family: type, spec: RunSpec) -> str | None:
    """Why the spec's labels (a CSV's ``label_column``, or ``subfolders``) give
    too few classes for the conditional ``family``, read from the CSV or the
    folder names without decoding an image; None when they give enough, or
    the family takes no classes. A labels file that cannot be used is the
    loader's own error (:class:`~tfgan_zoo.data.DataError`), raised here."""
    declared = {option.name: option for option in options.family_options(family)}
    allowed = declared["num_classes"].range if "num_classes" in declared else None
    images, labels = spec.data.get("images"), spec.data.get("labels")
    if allowed is None or not images or not labels:  # load_folder names what is missing
        return None
    images = Path(images).expanduser()
    csv = labels != SUBFOLDERS
    classes = folder_class_names(images, Path(labels).expanduser() if csv else labels, spec.data.get("label_column"))
    if len(classes) in allowed:
        return None
    source = (f"--labels {labels} --label-column {spec.data.get('label_column')}" if csv
              else f"--labels {SUBFOLDERS} (the sub-folders of {images})")
    return (f"{source} gives {len(classes)} class(es) ({', '.join(classes)}), but {family.__name__} needs "
            f"num_classes {allowed}. Label the images with more classes, or train without labels "
            "(experiments/dcgan_folder.py).")
