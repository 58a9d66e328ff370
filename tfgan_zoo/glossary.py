"""One spelling per concept, across every family, network and flag.

The rules the table follows:

* A network's argument is the concept's plain name: ``filters``, ``norm``,
  ``num_layers``, ``dropout``.
* A family's option that sets one of its networks' arguments carries the
  network's role as a prefix: ``g_filters``, ``d_filters``, ``d_layers``,
  ``d_norm``, ``g_depth``. An option that sets every network alike has no
  prefix (``norm`` in the translation families, ``leaky_slope``); so has one
  that only one kind of network has (``num_blocks``, ``innermost_norm``).
* Image sizes: ``image_shape`` is ``(height, width, channels)`` (noise-to-image
  families, and layers that hold images); ``image_size`` is the side of the
  square images of the translation families. Channels: ``input_channels`` and
  ``output_channels`` of a translation; ``channels`` where inputs and outputs
  share them (CycleGAN's two domains).

:data:`OPTIONS` declares every spelling a family or network takes, with its
meaning (tests/test_glossary.py fails on an undeclared one); :data:`RANGES`
names the value ranges of images. :data:`ALIASES` lists the spellings that
changed: :func:`canonical` rewrites a recorded configuration (a run's
``config.json``, a ``.keras`` file's config) to today's spellings,
:func:`accepts_old_spellings` lets a class take them as keywords (and so
``from_config`` load configs saved before the rename), and
:mod:`tfgan_zoo.options` accepts them as flags. The "Glossary" section of
docs/adding_a_family.md is :func:`markdown_table`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect

FAMILY = "family"
NETWORK = "network"


@dataclasses.dataclass(frozen=True)
class Term:
    """One concept: its ``spelling``, a short ``concept`` name, its ``meaning``
    and ``used_by`` (:data:`FAMILY` options, :data:`NETWORK` arguments, or both)."""

    spelling: str
    concept: str
    meaning: str
    used_by: tuple[str, ...] = (FAMILY,)


_BOTH = (FAMILY, NETWORK)

OPTIONS: tuple[Term, ...] = (
    # What the images are.
    Term("image_shape", "image shape", "(height, width, channels) of the images of a noise-to-image family "
         "(and of the images an ImagePool holds).", _BOTH),
    Term("image_size", "image size", "side of the square images of a translation family.", _BOTH),
    Term("input_channels", "input channels", "channels of the images a translation maps from (for a PatchGAN: "
         "of the condition it sees beside the judged images; 0: unconditional).", _BOTH),
    Term("output_channels", "output channels", "channels of the images a translation maps to (for a PatchGAN: "
         "of the images it judges).", _BOTH),
    Term("channels", "channels", "channels of every image, where a family's inputs and outputs share them "
         "(CycleGAN's two domains)."),
    Term("latent_dim", "latent size", "size of the generator's noise vector.", _BOTH),
    Term("num_classes", "class count", "number of classes a conditional model takes (labels 0..num_classes-1).",
         _BOTH),
    # Network widths and depths.
    Term("filters", "width", "filters of a network's first (DCGAN generator: last) block; deeper blocks "
         "double it.", (NETWORK,)),
    Term("g_filters", "G's width", "the generator's filters."),
    Term("d_filters", "D's width", "the discriminator's filters."),
    Term("max_filters", "width cap", "most filters a block of a translation network may have.", (NETWORK,)),
    Term("num_layers", "PatchGAN depth", "stride-2 layers of a PatchGAN (3: 70x70 patches). Not 'layers', "
         "which every keras.Model already has.", (NETWORK,)),
    Term("d_layers", "D's depth", "the PatchGAN discriminator's num_layers."),
    Term("depth", "U-Net depth", "stride-2 levels of a U-Net generator.", (NETWORK,)),
    Term("g_depth", "G's depth", "the U-Net generator's depth; default: as many levels as the image halves."),
    Term("num_blocks", "residual blocks", "residual blocks of a ResNet generator.", _BOTH),
    Term("dropout_blocks", "dropout blocks", "U-Net decoder blocks with dropout 0.5.", (NETWORK,)),
    # Normalization and block details.
    Term("norm", "normalization", "a network's normalization ('batch', 'instance', 'layer' or 'none'); as a "
         "family option, that of all its networks.", _BOTH),
    Term("d_norm", "D's normalization", "the discriminator's norm (its generator's is fixed)."),
    Term("innermost_norm", "innermost normalization", "normalize the U-Net's innermost block too.", _BOTH),
    Term("block_options", "block options", "a layers.BlockOptions: the details of a network's blocks "
         "(leaky_slope, bn_epsilon, bn_momentum, synchronized_bn, encoder_bias).", (NETWORK,)),
    Term("leaky_slope", "LeakyReLU slope", "negative slope of the LeakyReLUs of the blocks."),
    Term("bn_epsilon", "batch-norm epsilon", "epsilon of the batch normalizations."),
    Term("bn_momentum", "batch-norm momentum", "moving-average momentum of the batch normalizations."),
    Term("synchronized_bn", "synchronized batch norm", "batch statistics over every replica's batch."),
    Term("encoder_bias", "encoder bias", "a bias in the encoder convolutions no normalization follows."),
    Term("dropout", "dropout", "dropout rate after each discriminator block.", (NETWORK,)),
    Term("d_dropout", "D's dropout", "the discriminator's dropout."),
    Term("spectral_norm", "spectral normalization", "spectrally normalize a discriminator's layers.", (NETWORK,)),
    Term("d_spectral_norm", "D's spectral normalization", "the discriminator's spectral_norm."),
    # Training.
    Term("seed", "seed", "seed of a model's random streams (noise, jitter, image pools)."),
    Term("loss", "GAN loss", "the adversarial loss, by name (bce, lsgan, hinge, wgan-gp) or object."),
    Term("label_smoothing", "label smoothing", "one-sided label smoothing of D's real targets."),
    Term("gp_weight", "gradient-penalty weight", "weight of the gradient penalty (losses that have one)."),
    Term("d_steps", "D's steps", "discriminator updates per batch."),
    Term("g_steps", "G's steps", "generator updates per batch."),
    Term("d_every", "D's period", "update the discriminator on every d_every-th step only."),
    Term("simultaneous", "simultaneous updates", "G's and D's gradients from one forward pass."),
    Term("halve_d_loss", "halved D loss", "halve the discriminator's loss, as the pix2pix paper does."),
    Term("aux_weight", "auxiliary-classifier weight", "weight of the class cross-entropy in an ACGAN's G and D "
         "losses."),
    Term("l1_weight", "L1 weight", "weight of the L1 term of a paired translation's G loss."),
    Term("cycle_weight", "cycle weight", "weight of the cycle-consistency L1 (CycleGAN's lambda)."),
    Term("identity_weight", "identity weight", "weight of the identity L1, relative to cycle_weight."),
    Term("pool_size", "image-pool size", "generated images an ImagePool keeps for D (0: none)."),
    Term("diffaugment", "DiffAugment policy", "DiffAugment policies applied to every image D sees."),
    Term("freeze_d_layers", "frozen D blocks", "the discriminator's first blocks kept as they are while "
         "fine-tuning (FreezeD)."),
    Term("ema_decay", "EMA decay", "decay of the moving average of G's weights (0: off)."),
    Term("jitter", "random jitter", "resize up, crop back and mirror the training images in the step."),
    Term("load_size", "jitter resize side", "side the jitter resizes to before cropping."),
    Term("jitter_resize", "jitter interpolation", "interpolation of the jitter's resize."),
)

@dataclasses.dataclass(frozen=True)
class ValueRange:
    """A range image values are in: its ``name``, its ``interval`` and what is in it."""

    name: str
    interval: str
    meaning: str


RANGES: tuple[ValueRange, ...] = (
    ValueRange("uint8 range", "[0, 255]", "integers: image files, datasets, served images (ranges.to_uint8 "
               "converts to it)."),
    ValueRange("model range", "[-1, 1]", "floats: G's tanh output, what the networks take "
               "(ranges.uint8_to_model_range and ranges.to_model_range convert to it)."),
    ValueRange("unit interval", "[0, 1]", "floats: the scale of the paired-translation metrics "
               "(metrics.paired.unit_interval converts to it)."),
)

# Old spelling -> today's spelling(s), per family or network class: one old
# name may mean different things in different classes (CycleGAN's
# ``filters`` was both networks' width; a network's ``filters`` is today's).
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "CycleGAN": {"filters": ("g_filters", "d_filters"), "disc_layers": ("d_layers",)},
    "DCGANGenerator": {"base_filters": ("filters",)},
    "DCGANDiscriminator": {"base_filters": ("filters",)},
    "PatchDiscriminator": {"target_channels": ("output_channels",)},
}


def renames(owner: str | type) -> dict[str, tuple[str, ...]]:
    """``{old spelling: today's spellings}`` of a family or network, by name
    or by class (a class also takes its bases' renames)."""
    names = [cls.__name__ for cls in reversed(owner.__mro__)] if isinstance(owner, type) else [owner]
    found = {}
    for name in names:
        found.update(ALIASES.get(name, {}))
    return found


def canonical(family_name: str | type, options: dict) -> dict:
    """``options`` of ``family_name`` (a recorded ``get_config()``, a
    ``.keras`` config, parsed flags) with old spellings rewritten to today's:
    ``canonical("CycleGAN", {"filters": 4})`` is ``{"g_filters": 4,
    "d_filters": 4}``. Other keys are kept as they are; a key given in both
    spellings is a ValueError."""
    old_spellings = renames(family_name)
    rewritten = {}
    for name, value in options.items():
        if name not in old_spellings:
            rewritten[name] = value
            continue
        both = [spelling for spelling in old_spellings[name] if spelling in options]
        if both:
            raise ValueError(
                f"{getattr(family_name, '__name__', family_name)} got {name!r} (the old spelling of "
                f"{' and '.join(old_spellings[name])}) and {' and '.join(both)}; give only today's spelling."
            )
        rewritten.update(dict.fromkeys(old_spellings[name], value))
    return rewritten


def accepts_old_spellings(cls: type) -> type:
    """Class decorator: ``cls(**keywords)`` takes the old spellings
    :data:`ALIASES` lists for it, rewritten by :func:`canonical`; Keras'
    ``from_config`` calls the constructor, so a ``.keras`` file saved before a
    rename loads too. The signature (and the flags :mod:`tfgan_zoo.options`
    reads from it) stays today's."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **canonical(cls.__name__, kwargs))

    # Keras reads the constructor's arguments (its auto-config) through
    # getfullargspec, which sees a declared signature but not through wraps.
    __init__.__signature__ = inspect.signature(init)
    cls.__init__ = __init__
    return cls


def _old_spellings_of(spelling: str) -> list[str]:
    """``["`base_filters` (DCGANGenerator, DCGANDiscriminator)"]``: the old spellings of ``spelling``, by owner."""
    owners: dict[str, list[str]] = {}
    for owner, names in ALIASES.items():
        for old, new in names.items():
            if spelling in new:
                owners.setdefault(old, []).append(owner)
    return [f"`{old}` ({', '.join(names)})" for old, names in owners.items()]


def markdown_table() -> str:
    """The glossary as the Markdown tables of docs/adding_a_family.md's "Glossary" section."""
    rows = ["| Spelling | Concept | Meaning | Used by | Old spellings |", "|---|---|---|---|---|"]
    for entry in OPTIONS:
        old = ", ".join(_old_spellings_of(entry.spelling))
        rows.append(f"| `{entry.spelling}` | {entry.concept} | {entry.meaning} | {', '.join(entry.used_by)} | {old} |")
    rows += ["", "| Range | Values | Meaning |", "|---|---|---|"]
    rows += [f"| {entry.name} | {entry.interval} | {entry.meaning} |" for entry in RANGES]
    return "\n".join(rows)
