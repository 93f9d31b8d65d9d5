"""The Python API on PyTorch modules, which cnncalc's importer (cnncalc/importer) turns into specs.

torchvision comes from the session fixture `torchvision` (tests/conftest.py), imported with the workaround of
tests/model_libraries.py. The README's examples that need the importer run here too.
"""

from __future__ import annotations

from typing import Any

import pytest
import readme_examples
import torch
from clirunner import ROOT, invoke
from torch import nn

import cnncalc

RESNET18_PARAMS = 11_689_512
RESNET18_MACS = 1_814_073_344  # torchvision's published exact MACs (conv, linear; bias excluded)


@pytest.fixture(scope="module")
def resnet18(torchvision: Any) -> nn.Module:
    return torchvision.models.resnet18().eval()


def test_summary_of_torchvision_resnet18(resnet18):
    stats = cnncalc.summary(resnet18, (1, 3, 224, 224), verbose=0)
    assert stats.totals.params == RESNET18_PARAMS
    assert stats.totals.macs == RESNET18_MACS
    assert stats.totals.buffers == 9_600
    assert stats.input_shape == (1, 3, 224, 224)
    assert stats.output_shape == (1, 1000)
    assert max(layer.depth for layer in stats.layers) <= 3  # torchinfo's default depth
    assert sum(layer.params for layer in stats.layers) == RESNET18_PARAMS


def test_summary_prints_the_table_and_returns_it(resnet18, capsys, monkeypatch):
    for variable in ("COLUMNS", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(variable, raising=False)
    stats = cnncalc.summary(resnet18, (1, 3, 224, 224), depth=1, verbose=1)
    printed = capsys.readouterr().out
    assert printed == str(stats) + "\n"
    assert "11,689,512" in printed and "1,814,073,344" in printed


def test_analyze_a_module_at_one_sample_or_a_batch(resnet18):
    one = cnncalc.analyze(resnet18, input=(3, 224, 224))
    assert (one.totals.params, one.totals.macs) == (RESNET18_PARAMS, RESNET18_MACS)
    batch = cnncalc.analyze(resnet18, input=(4, 3, 224, 224))
    assert batch.input_shape == (4, 3, 224, 224)
    assert batch.totals.macs == 4 * RESNET18_MACS
    assert cnncalc.analyze(resnet18, input="3x224x224", batch=4).totals == batch.totals
    assert cnncalc.analyze(resnet18, input=torch.Size([4, 3, 224, 224])).totals == batch.totals
    with pytest.raises(cnncalc.UsageError, match="disagrees"):
        cnncalc.analyze(resnet18, input=(4, 3, 224, 224), batch=2)


def test_to_spec_reads_back_to_the_same_figures(resnet18, tmp_path):
    spec = cnncalc.to_spec(resnet18, (1, 3, 224, 224))
    assert isinstance(spec, str) and "layers" in spec
    direct = cnncalc.analyze(resnet18, input=(1, 3, 224, 224))
    again = cnncalc.analyze(spec)
    assert again.totals == direct.totals
    assert again.totals.macs == RESNET18_MACS
    assert [layer.output_shape for layer in again.layers] == [layer.output_shape for layer in direct.layers]
    path = tmp_path / "resnet18.yaml"
    path.write_text(spec)
    run = invoke("analyze", str(path), "--format", "json")
    assert run.code == 0, run.output
    assert run.json()["totals"] == direct.to_dict()["totals"]


def test_to_spec_with_a_name_and_a_batch(resnet18):
    spec = cnncalc.to_spec(resnet18, (2, 3, 64, 64), name="my_resnet")
    result = cnncalc.analyze(spec)
    assert result.name == "my_resnet"
    assert result.input_shape == (2, 3, 64, 64)
    assert cnncalc.to_spec(resnet18, (3, 64, 64), batch=2, name="my_resnet") == spec


def test_the_torchinfo_convention_of_a_module_is_torchinfos_number(resnet18):
    import torchinfo

    ours = cnncalc.analyze(resnet18, input=(1, 3, 224, 224), convention="torchinfo").totals
    theirs = torchinfo.summary(resnet18, input_size=(1, 3, 224, 224), verbose=0)
    assert ours.headline == theirs.total_mult_adds
    assert ours.params == theirs.total_params


def test_the_module_is_left_as_it_was(torchvision):
    model = torchvision.models.resnet18().train()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    cnncalc.analyze(model, input=(3, 64, 64))
    cnncalc.summary(model, (1, 3, 64, 64), verbose=0)
    cnncalc.to_spec(model, (1, 3, 64, 64))
    assert model.training
    after = model.state_dict()
    assert all(not tensor.is_meta and torch.equal(tensor, after[name]) for name, tensor in before.items())


def test_the_rank_of_a_1d_module_decides_where_the_batch_is():
    model = nn.Sequential(nn.Conv1d(2, 4, 3), nn.ReLU())
    assert cnncalc.analyze(model, input=(2, 100)).input_shape == (1, 2, 100)
    assert cnncalc.analyze(model, input=(8, 2, 100)).input_shape == (8, 2, 100)
    assert cnncalc.analyze(model, input=(8, 2, 100)).totals.macs == 8 * 4 * 2 * 3 * 98


class _Spectrum(nn.Module):
    """An operation no layer kind stands for: the importer cannot write it as a spec."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.fft.fft2(x).abs()


def test_a_module_the_importer_cannot_import():
    from cnncalc.importer import ImportFailure

    with pytest.raises(cnncalc.ModelImportError) as caught:
        cnncalc.analyze(nn.Sequential(nn.Conv2d(3, 4, 3), _Spectrum()), input=(3, 32, 32))
    assert isinstance(caught.value, cnncalc.CnncalcError)
    assert isinstance(caught.value.__cause__, ImportFailure)
    assert caught.value.message.startswith("cannot import Sequential: ")
    with pytest.raises(cnncalc.ModelImportError):
        cnncalc.to_spec(nn.Sequential(nn.Conv2d(3, 4, 3), _Spectrum()), (1, 3, 32, 32))


def test_the_readme_module_examples_run(torchvision, monkeypatch):
    monkeypatch.chdir(ROOT)
    examples = readme_examples.examples(needs_importer=True)
    assert examples
    namespace: dict[str, Any] = {}
    for example in examples:
        readme_examples.run(example, namespace)
