"""The reader's language model: chat prompts, free generation and answer scoring."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from runtime import batching
from runtime.batching import ContinuousBatcher
from runtime.cached_decoder import CachedDecoder
from runtime.fused_decoder import FusedDecoder, is_fused_graph
from runtime.chat import END_OF_TURN, Message, chat_formatter
from runtime.decoding import log_softmax
from runtime.errors import ContextLengthExceededError
from runtime.generation import check_context_length, run_generation
from runtime.params import GenerationParams
from runtime.results import GenerationResult, TextDelta
from runtime.session import ComponentSession
from runtime.tokenizer import Tokenizer

SCORING_SYSTEM = "You answer questions about a document by copying the exact words from it."


class LanguageModel:
    """A causal LM with a KV cache. Read-only after construction."""

    def __init__(self, session: ComponentSession, tokenizer: Tokenizer, chat_format: str,
                 default_system: str | None, eos_token_ids: Sequence[int], max_seq_len: int | None,
                 max_batch: int = 1):
        """`max_batch` > 1: replies are decoded together, up to that many per step
        (`runtime.batching`), where the graph allows it."""
        self._decoder = FusedDecoder(session) if is_fused_graph(session) else CachedDecoder(session)
        self.batcher = (ContinuousBatcher(self._decoder, max_batch)
                        if max_batch > 1 and batching.supports(self._decoder) else None)
        self.tokenizer = tokenizer
        self._format = chat_formatter(chat_format)
        self._end_of_turn = tokenizer.encode(END_OF_TURN[chat_format], add_special_tokens=False)
        self._default_system = default_system
        self.eos_token_ids = tuple(eos_token_ids)
        self.max_seq_len = max_seq_len

    def chat_ids(self, messages: Sequence[Message]) -> list[int]:
        return self.tokenizer.encode(self._format(messages, self._default_system), add_special_tokens=False)

    def generate(self, messages: Sequence[Message], params: GenerationParams,
                 input_text: str = "the prompt") -> Iterator[TextDelta | GenerationResult]:
        """Stream a reply to `messages`; refuses prompts that do not fit `max_seq_len`
        (`input_text` says what the messages hold, for that error: "the prompt")."""
        prompt_ids = self.chat_ids(messages)
        check_context_length(len(prompt_ids), params, self.max_seq_len, input_text)
        return run_generation(self._decoder.bind({}), prompt_ids, params, self.tokenizer, self.eos_token_ids,
                              batcher=self.batcher)

    def score_answers(self, question: str, context: Sequence[str], answers: Sequence[str]) -> list[float]:
        """Mean log-probability per token of each answer (and the end of turn after it)."""
        if not answers:
            return []
        document = "\n".join(context)
        messages = [
            Message("system", SCORING_SYSTEM),
            Message("user", f"Document:\n{document}\n\nQuestion: {question}"),
        ]
        prompt_ids = self.chat_ids(messages)
        encoded = [self.tokenizer.encode(a, add_special_tokens=False) + self._end_of_turn for a in answers]
        longest = max(len(ids) for ids in encoded)
        needed = len(prompt_ids) + longest
        if self.max_seq_len is not None and needed > self.max_seq_len:
            # Not the client's token budget: the candidate answers are the engine's own.
            raise ContextLengthExceededError(
                needed, self.max_seq_len,
                f"{len(prompt_ids)} tokens of the image's text and the question + {longest} of the longest "
                "candidate answer",
                advice="Ask a shorter question, or crop the image to the part that holds the answer.",
                param="prompt",
            )
        model = self._decoder.bind({})
        last_logits, prefix_state = model.step(np.asarray([prompt_ids], dtype=np.int64), model.start(1))
        scores = []
        for ids in encoded:
            every = last_logits
            if len(ids) > 1:  # the prefix's last logits predict ids[0]; each fed id predicts the next
                logits, _ = model.step_all(np.asarray([ids[:-1]], dtype=np.int64), prefix_state)
                every = np.concatenate([last_logits, logits[0]], axis=0)
            logprobs = log_softmax(every.astype(np.float32))
            scores.append(float(np.mean(logprobs[np.arange(len(ids)), ids])))
        return scores
