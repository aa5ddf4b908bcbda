"""A tiny BERT (random weights) with its tokenizer, saved to a folder, for tests.

No test downloads a model: those that need a transformer encoder build this
one (a few hundred kB) in a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

#: Words of the tiny vocabulary (any other word is ``[UNK]``).
WORDS = (
    "the a an and or but of to in on at for with is are was were be been it "
    "this that these those i you he she we they my your his her our their "
    "not no yes can will would should could do does did have has had "
    "school students student teacher teachers work time people think good "
    "bad because more most some many much very also so if when what which "
    "who how why help life make get go like want need learn learning "
    "cat dog sat ran mat big small red essay"
).split()


def make_tiny_bert(folder, *, n_layers=3, hidden_size=16, seed=0) -> Path:
    """Save a randomly initialised BERT and its WordPiece tokenizer in ``folder``.

    Parameters
    ----------
    folder : path-like
        Created if needed.
    n_layers : int, default=3
        Transformer blocks.
    hidden_size : int, default=16
        Width of every hidden state.
    seed : int, default=0
        Seed of the weights.

    Returns
    -------
    folder : pathlib.Path
        Loadable by ``transformers.AutoModel`` / ``AutoTokenizer``.
    """
    import torch
    import transformers

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(WORDS)]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizer.from_pretrained(folder)
    if tokenizer.vocab_size != len(vocab):
        raise RuntimeError("the tiny tokenizer did not read its vocabulary")
    tokenizer.save_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        num_hidden_layers=n_layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=512,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = transformers.BertModel(config).eval()
    model.save_pretrained(folder)
    return folder
