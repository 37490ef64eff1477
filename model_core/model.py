"""SS-MAE: the dual-branch encoder, its pretraining decoders, and the classifier.

The input of every module is a normalised multi-source patch x of shape
(B, C, P, P): the HSI bands first, then the SAR/LiDAR bands (C = n_hsi + n_aux).

- Spatial branch: every pixel of the patch is a token (its C values -> dim, a 1x1
  convolution), with a fixed 2-D sin-cos position embedding and a class token.
- Spectral branch: every band is a token (its P * P image -> dim), with a fixed 1-D
  sin-cos position embedding over the band index and a class token.
- Pretraining (`SSMAE`): each branch encodes only its visible tokens; a decoder per
  branch puts mask tokens in the masked slots and reconstructs pixel by pixel
  (spatial: C values per pixel token) and band by band (spectral: P * P values per
  band token), in the input's own order. The loss is the mean squared error over
  masked elements only, summed over the two branches.
- Classification (`SSMAEClassifier`): the same encoder on the whole patch, plus a CNN
  branch (PCA-reduced HSI through 3-D convolutions, SAR/LiDAR through 2-D ones); the
  two class tokens and the CNN features are summed, normalised and classified
  (ModelConfig.fusion "no_cnn": the class tokens only, no CNN branch; ModelConfig.readout
  "pixel_mean": the spatial branch gives the mean of its pixel tokens, not its class token).
  The CNN uses unpadded 3x3 convolutions whose receptive field is exactly the patch,
  so it can run once over a whole tile and give each pixel the value it would get
  from its own patch (see `inference.py`).
"""

from typing import NamedTuple

import torch
from torch import nn

from . import fused
from .config import ModelConfig
from .transformer import Stack, init_weights, positions, rows_where, sincos_1d, sincos_2d, trunc_normal_


class Branch(nn.Module):
    """One encoder branch: token embedding, class token, fixed positions, transformer."""

    def __init__(self, in_features: int, pos: torch.Tensor, config: ModelConfig) -> None:
        super().__init__()
        self.embed = nn.Linear(in_features, config.dim)
        self.cls_token = nn.Parameter(trunc_normal_(torch.empty(1, 1, config.dim)))
        self.register_buffer("pos", pos, persistent=False)
        self.stack = Stack(config.dim, config.depth, config.heads, config.mlp_ratio, gated=True)

    def encode(self, tokens: torch.Tensor, first_only: bool = False) -> torch.Tensor:
        """Transformer over [class token; tokens] (tokens already embedded, with positions)."""
        cls = self.cls_token.expand(tokens.shape[0], -1, -1).to(tokens.dtype)
        return self.stack(torch.cat([cls, tokens], dim=1), slice(0, 1) if first_only else None)


def pixel_tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, P, P) -> (B, P * P, C): one token per pixel, row-major."""
    return x.flatten(2).transpose(1, 2)


def band_tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, P, P) -> (B, C, P * P): one token per band."""
    return x.flatten(2)


class SSEncoder(nn.Module):
    """The two SS-MAE encoder branches; shared by pretraining and classification."""

    def __init__(self, config: ModelConfig, n_bands: int) -> None:
        super().__init__()
        area = config.patch * config.patch
        self.spatial = Branch(n_bands, sincos_2d(config.patch, config.dim), config)
        self.spectral = Branch(area, sincos_1d(positions(n_bands), config.dim), config)

    def features(self, windows: torch.Tensor, spatial_windows: torch.Tensor,
                 readout: str = "class_token") -> tuple:
        """Each branch's feature (n, dim) over whole patches (n, C, P, P), given their
        embedded pixel tokens (n, P * P, dim, no positions yet): the class tokens, or with
        readout "pixel_mean" the spatial branch's mean pixel token (its last block then
        computes every token) and the spectral class token."""
        pooled = readout == "pixel_mean"
        spatial = self.spatial.encode(spatial_windows + self.spatial.pos, first_only=not pooled)
        spectral_tokens = self.spectral.embed(band_tokens(windows)) + self.spectral.pos
        return (spatial[:, 1:].mean(dim=1) if pooled else spatial[:, 0],
                self.spectral.encode(spectral_tokens, first_only=True)[:, 0])

    def forward(self, x: torch.Tensor, readout: str = "class_token") -> tuple:
        """(spatial, spectral) features (B, dim) of whole patches x (B, C, P, P), as `features`."""
        return self.features(x, self.spatial.embed(pixel_tokens(x)), readout)


class Decoder(nn.Module):
    """MAE decoder: visible tokens back in their slots, mask tokens elsewhere, a head."""

    def __init__(self, config: ModelConfig, pos: torch.Tensor, out_features: int) -> None:
        super().__init__()
        self.embed = nn.Linear(config.dim, config.decoder_dim)
        self.mask_token = nn.Parameter(trunc_normal_(torch.empty(1, 1, config.decoder_dim)))
        self.register_buffer("pos", pos, persistent=False)
        self.stack = Stack(config.decoder_dim, config.decoder_depth, config.decoder_heads,
                           config.decoder_mlp_ratio, gated=False)
        self.head = nn.Linear(config.decoder_dim, out_features)

    def forward(self, encoded: torch.Tensor, mask: torch.Tensor, only_masked: bool = True) -> torch.Tensor:
        """encoded: (B, 1 + visible, dim) with the class token first; mask: (B, N).

        Returns the reconstruction of the masked tokens (B, masked, out_features), or with
        only_masked=False of every token (B, N, out_features), token order as in the input.
        The loss reads the masked tokens only, so the last block computes only theirs.
        """
        x = self.embed(encoded)
        batch, tokens = mask.shape
        full = x.new_empty(batch, tokens, x.shape[-1])
        full[~mask] = x[:, 1:].reshape(-1, x.shape[-1])
        full = torch.where(mask[..., None], self.mask_token.to(full.dtype), full) + self.pos
        queries = torch.cat([mask.new_zeros(batch, 1), mask], dim=1) if only_masked else None
        decoded = self.stack(torch.cat([x[:, :1], full.to(x.dtype)], dim=1), queries)
        return self.head(decoded if only_masked else decoded[:, 1:])


def normalized_tokens(tokens: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Each token centred and scaled to unit variance over its own values (MAE's norm_pix_loss
    target): the reconstruction must get the token's shape, not its level or contrast."""
    tokens = tokens.float()
    mean, var = tokens.mean(dim=-1, keepdim=True), tokens.var(dim=-1, keepdim=True, unbiased=False)
    return (tokens - mean) / (var + eps).sqrt()


def masked_mse(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the masked tokens only: prediction (B, k, D) of the masked tokens
    in order, target (B, N, D) of every token, mask (B, N) with k set per sample."""
    return (prediction.float() - rows_where(target, mask).float()).pow(2).mean()


class PretrainLoss(NamedTuple):
    total: torch.Tensor
    spatial: torch.Tensor
    spectral: torch.Tensor


class SSMAE(nn.Module):
    """The pretraining model: SS-MAE encoder plus one decoder per branch."""

    def __init__(self, config: ModelConfig, n_hsi: int, n_aux: int, normalized_targets: bool = False) -> None:
        super().__init__()
        self.config, self.n_hsi, self.n_aux = config, n_hsi, n_aux
        self.normalized_targets = normalized_targets
        n_bands, area = n_hsi + n_aux, config.patch * config.patch
        self.encoder = SSEncoder(config, n_bands)
        self.spatial_decoder = Decoder(config, sincos_2d(config.patch, config.decoder_dim), n_bands)
        self.spectral_decoder = Decoder(
            config, sincos_1d(positions(n_bands), config.decoder_dim), area)
        init_weights(self)

    def encode_visible(self, x: torch.Tensor, spatial_mask: torch.Tensor,
                       spectral_mask: torch.Tensor) -> tuple:
        """Encoder outputs (class token first) of each branch, from visible tokens only."""
        spatial, spectral = self.encoder.spatial, self.encoder.spectral
        spatial_tokens = spatial.embed(pixel_tokens(x)) + spatial.pos
        spectral_tokens = spectral.embed(band_tokens(x)) + spectral.pos
        return (spatial.encode(rows_where(spatial_tokens, ~spatial_mask)),
                spectral.encode(rows_where(spectral_tokens, ~spectral_mask)))

    def targets(self, x: torch.Tensor) -> tuple:
        """What each decoder reconstructs: (pixel tokens, band tokens), normalised per token
        when `normalized_targets` is set."""
        spatial, spectral = pixel_tokens(x), band_tokens(x)
        if self.normalized_targets:
            return normalized_tokens(spatial), normalized_tokens(spectral)
        return spatial, spectral

    def forward(self, x: torch.Tensor, spatial_mask: torch.Tensor,
                spectral_mask: torch.Tensor) -> PretrainLoss:
        spatial_encoded, spectral_encoded = self.encode_visible(x, spatial_mask, spectral_mask)
        spatial_target, spectral_target = self.targets(x)
        spatial_loss = masked_mse(self.spatial_decoder(spatial_encoded, spatial_mask),
                                  spatial_target, spatial_mask)
        spectral_loss = masked_mse(self.spectral_decoder(spectral_encoded, spectral_mask),
                                   spectral_target, spectral_mask)
        return PretrainLoss(spatial_loss + spectral_loss, spatial_loss, spectral_loss)

    def reconstruct(self, x: torch.Tensor, spatial_mask: torch.Tensor,
                    spectral_mask: torch.Tensor) -> tuple:
        """Reconstructions as patches (B, C, P, P): (spatial branch, spectral branch), in the
        units of `targets` (normalised per token when the model was trained so)."""
        spatial_encoded, spectral_encoded = self.encode_visible(x, spatial_mask, spectral_mask)
        spatial = self.spatial_decoder(spatial_encoded, spatial_mask, only_masked=False).transpose(1, 2)
        spectral = self.spectral_decoder(spectral_encoded, spectral_mask, only_masked=False)
        return spatial.reshape(x.shape), spectral.reshape(x.shape)


def convolved(x: torch.Tensor, layers: nn.Sequential) -> torch.Tensor:
    """`layers(x)` for a stack of convolutions, each followed by a GELU or not, every GELU
    applied inside its convolution where `fused.convolution` can."""
    modules = list(layers)
    for index, module in enumerate(modules):
        if not isinstance(module, nn.GELU):
            gelu = index + 1 < len(modules) and isinstance(modules[index + 1], nn.GELU)
            x = fused.convolution(x, module, gelu)
    return x


def _valid_conv_layers(patch: int) -> int:
    """Unpadded 3x3 layers whose stacked receptive field is exactly the patch."""
    return patch // 2


class HsiCnn(nn.Module):
    """PCA-reduced HSI through unpadded 3-D convolutions: (B, 1, K, H, W) -> (B, dim, H', W')."""

    def __init__(self, components: int, config: ModelConfig) -> None:
        super().__init__()
        layers, channels = [], 1
        for index in range(_valid_conv_layers(config.patch)):
            spectral_kernel = max(7 - 2 * index, 3)
            out = config.cnn_channels * 2 ** index
            layers += [nn.Conv3d(channels, out, (spectral_kernel, 3, 3),
                                 padding=(spectral_kernel // 2, 0, 0)), nn.GELU()]
            channels = out
        self.convs = nn.Sequential(*layers)
        self.project = nn.Conv2d(channels * components, config.dim, 1)

    def forward(self, pca: torch.Tensor) -> torch.Tensor:
        maps = convolved(pca, self.convs)
        return self.project(maps.flatten(1, 2))


class AuxCnn(nn.Module):
    """SAR/LiDAR bands through unpadded 2-D convolutions: (B, n_aux, H, W) -> (B, dim, H', W')."""

    def __init__(self, n_aux: int, config: ModelConfig) -> None:
        super().__init__()
        depth = _valid_conv_layers(config.patch)
        widths = [max(config.dim // 2 ** (depth - 1 - index), 8) for index in range(depth)]
        layers, channels = [], n_aux
        for width in widths:
            layers += [nn.Conv2d(channels, width, 3), nn.GELU()]
            channels = width
        self.convs = nn.Sequential(*layers[:-1])

    def forward(self, aux: torch.Tensor) -> torch.Tensor:
        return convolved(aux, self.convs)


class SSMAEClassifier(nn.Module):
    """SS-MAE encoder + CNN branch + linear classifier, for fine-tuning and prediction."""

    def __init__(self, config: ModelConfig, n_hsi: int, n_aux: int, n_classes: int) -> None:
        super().__init__()
        if n_hsi < 3 or n_aux < 1 or n_classes < 2:
            raise ValueError("The classifier needs at least 3 HSI bands, 1 auxiliary band "
                             f"and 2 classes; got {n_hsi}, {n_aux} and {n_classes}.")
        self.config, self.n_hsi, self.n_aux, self.n_classes = config, n_hsi, n_aux, n_classes
        components = min(config.pca_components, n_hsi)
        self.encoder = SSEncoder(config, n_hsi + n_aux)
        self.register_buffer("pca_mean", torch.zeros(n_hsi))
        self.register_buffer("pca_components", torch.eye(components, n_hsi, device="cpu"))  # as `positions`
        self.cnn = config.fusion == "sum"
        if self.cnn:
            self.hsi_cnn = HsiCnn(components, config)
            self.aux_cnn = AuxCnn(n_aux, config)
        self.head = nn.Sequential(nn.LayerNorm(config.dim), nn.Linear(config.dim, n_classes))
        init_weights(self)

    def set_pca(self, mean: torch.Tensor, components: torch.Tensor) -> None:
        self.pca_mean.copy_(mean)
        self.pca_components.copy_(components)

    def spatial_embedding(self, x: torch.Tensor) -> torch.Tensor:
        """Every pixel's spatial-branch token, without position: (B, C, H, W) -> (B, H, W, dim)."""
        return self.encoder.spatial.embed(x.permute(0, 2, 3, 1))

    def cnn_features(self, x: torch.Tensor) -> torch.Tensor:
        """CNN branch over any (B, C, H, W) -> (B, dim, H - P + 1, W - P + 1); zeros without one."""
        if not self.cnn:
            margin = self.config.patch - 1
            return x.new_zeros(x.shape[0], self.config.dim, x.shape[2] - margin, x.shape[3] - margin)
        hsi = x[:, :self.n_hsi].permute(0, 2, 3, 1) - self.pca_mean
        pca = (hsi @ self.pca_components.T).permute(0, 3, 1, 2).unsqueeze(1)
        return self.hsi_cnn(pca) + self.aux_cnn(x[:, self.n_hsi:])

    def classify(self, windows: torch.Tensor, spatial_windows: torch.Tensor,
                 cnn: torch.Tensor) -> torch.Tensor:
        """Logits from each sample's patch (n, C, P, P), its embedded pixel tokens
        (n, P * P, dim, no positions yet) and its CNN features (n, dim)."""
        spatial, spectral = self.encoder.features(windows, spatial_windows, self.config.readout)
        return self.head(spatial + spectral + cnn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, n_classes) for patches x (B, C, P, P)."""
        embedded = self.spatial_embedding(x).flatten(1, 2)
        return self.classify(x, embedded, self.cnn_features(x)[:, :, 0, 0])

