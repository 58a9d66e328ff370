"""The family contract: what every GAN family in this package provides, and
what this package gives each of them. (docs/adding_a_family.md walks through
a new family.)

A family is a subclass of :class:`AdversarialModel` (noise-to-image families
may build on :class:`NoiseToImageGAN`, which adds noise, EMA, DiffAugment and
step ratios). It provides:

* **networks**: ``generators`` and ``discriminators``, dicts of name ->
  network (each with ``build_for_inputs()``; by default ``self.generator``
  and ``self.discriminator``), created in ``__init__``, which then calls
  :meth:`AdversarialModel.build_training_state` with the :class:`Metric`
  declarations of the figures its steps log: each name, its direction
  (minimized, maximized or neither) and the :data:`Role` the health monitor
  reads it in, if any;
* **how a batch splits**: :meth:`~AdversarialModel.split_batch`, returning the
  batch's parts in the model's ranges (helpers in :mod:`.inputs` check
  images, shapes and labels);
* **its losses**: ``train_step`` and ``test_step``, each update written as
  ``with self.update(optimizer, networks) as step: ... step.minimize(losses)``;
  ``compile(*, g_optimizer=None, d_optimizer=None, <its options>, **kwargs)``
  calling :meth:`~AdversarialModel.attach_optimizers`, with ``compile_options()``
  returning those options for saving; ``get_config()``;
* **its inputs for samples or translations**, through one of two protocols:
  :class:`Sampling` (noise -> image: ``latent_dim``, ``num_classes``,
  ``sample_inputs``, ``generate``, ``sampling_generator``) or
  :class:`Translating` (image -> image: ``image_size``, ``translators``,
  ``translate``). Callbacks, exports, the demo, reports and diagnostics use
  only these.

The base gives every family: one update helper with loss scaling (float16)
and replica scaling (``tf.distribute``), and :func:`training_noise` and
:func:`replica_share` for random draws that N replicas split as one device
draws them; trackers made from the declarations, which tell Keras' monitor
callbacks their direction; the gradient norm of every generator
(``g_grad_norm``, or ``g_ab_grad_norm``/``g_ba_grad_norm`` with two), in the
role the health monitor watches; the paper's Adam as the default of both
optimizers; ``evaluate``/``validation_data`` through ``test_step``;
``model.export(path)``; learning-rate callbacks that move both optimizers; an
eager check of the first batch of any input ``fit`` and ``evaluate`` take
(XLA drops in-step checks; [0, 1] floats are refused there); Keras arguments
a GAN would ignore refused by name; ``TerminateOnNaN`` reading every figure;
labels as ids, lists or one-hot rows in ``model(...)`` and ``predict``; a
``summary()`` per network; and the numeric ranges its ``__init__`` and
``compile`` annotations declare, checked on every call. Any
family may use the components :class:`ExponentialMovingAverage`,
:class:`GradientPenalty` and :class:`tfgan_zoo.augment.DiffAugment`.

Modules, by job: :mod:`.contract` (the protocols and the base class),
:mod:`.tracking` (metric declarations and trackers), :mod:`.update` (the
update helper and per-replica draws), :mod:`.optimizers`, :mod:`.inputs` (the
input contract's helpers), :mod:`.fitting` (what ``fit`` and ``evaluate`` add),
:mod:`.components` (EMA, gradient penalty) and
:mod:`.noise_to_image` (:class:`NoiseToImageGAN`).
"""

from tfgan_zoo.models.base.components import ExponentialMovingAverage, GradientPenalty, has_batch_norm
from tfgan_zoo.models.base.contract import AdversarialModel, Sampling, Translating
from tfgan_zoo.models.base.inputs import (
    check_image_shape, class_ids, noise_and_labels, sampling_inputs, split_image_pair, split_labelled_images,
    translate_images, unpack_batch,
)
from tfgan_zoo.models.base.noise_to_image import NoiseToImageGAN
from tfgan_zoo.models.base.optimizers import paper_adam
from tfgan_zoo.models.base.tracking import Direction, Metric, Role
from tfgan_zoo.models.base.update import replica_mean, replica_share, training_noise

# Every family is a GAN: this name of the noise-to-image base stays for user code.
GAN = NoiseToImageGAN

__all__ = [
    "AdversarialModel", "Direction", "ExponentialMovingAverage", "GAN", "GradientPenalty", "Metric",
    "NoiseToImageGAN", "Role", "Sampling", "Translating", "check_image_shape", "class_ids", "has_batch_norm",
    "noise_and_labels",
    "paper_adam", "replica_mean", "replica_share", "sampling_inputs", "split_image_pair", "split_labelled_images",
    "training_noise", "translate_images", "unpack_batch",
]
