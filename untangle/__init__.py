"""Untangle a busy chat channel into conversations (stdlib + numpy; imports nothing else of Hallway).

Input is a time-ordered sequence of :class:`ChatLine` (one channel); output is one
:class:`Link` per line: the line it replies to (``parent``), how sure we are, whether the
link came from explicit structure, and the conversation it belongs to (the id of the
conversation's first message).

Algorithm
---------
1. **Explicit structure first.**

   * ``thread_id``: the line belongs to the thread's conversation.  Its parent is its
     ``reply_to`` when that is inside the thread, otherwise the best earlier line of the
     same thread (or the thread's starter message, whose id is ``thread_id``) chosen by the
     model below; when no earlier line of the thread is available the parent is the
     ``thread_id`` itself (explicit, confidence 1).  The conversation is the starter's
     conversation when the starter is known, else ``thread_id``.
   * ``reply_to``: the parent is the reply target (explicit, confidence 1), also when the
     target is not in the input.  **Missing targets:** the line joins the target's
     conversation if the target's link is in ``known``; otherwise it joins the
     conversation keyed by the missing target id -- so several replies to the same
     unseen message end up together, and the key is the id of the conversation's first
     message (the unseen target).  Reply targets that are not earlier than the line are
     ignored.

2. **Inferred links** for every other line: a log-linear ranking model scores the line
   itself ("starts a new conversation") and each of the previous :data:`WINDOW` lines as
   antecedent, over bucketed features and their conjunctions: distance in lines and
   minutes, same author, name addressing (``alice:``/``alice,``/``@alice``) and mentions in
   both directions, whether the candidate is its author's latest line, how many lines each
   author wrote in between, who-talked-to-whom (whether the author's previous line
   addressed the candidate's author), lexical overlap (idf-weighted cosine), question
   marks, opening cue words (thanks / greetings / yes-no / question words), lengths, URLs,
   system lines; a second stage adds conversation-level features computed from a first
   decoding.  Candidates more than :data:`MAX_GAP` earlier are never linked.
   **Decision per conversation:** the probability of joining a conversation is the total
   probability of its lines among the candidates; the line joins the most probable
   conversation (parent: its most probable line there) unless "new conversation" is more
   probable, and that probability is the confidence.  A line inherits its parent's
   conversation (:mod:`untangle.decode`, one decoder for both stages).  Weights are learned on
   the Ubuntu IRC disentanglement corpus (:mod:`untangle.train`, run by
   ``bench/train_disentangle.py``) and shipped in ``untangle/weights.json``.

Incremental use
---------------
The archive calls :func:`untangle` per channel with the tail of already-processed lines
(at least :data:`WINDOW` of them, as context) followed by the newly arrived lines, and
passes the stored links of the tail as ``known``.  Lines whose id is in ``known`` keep
their link unchanged (they are returned as given); only the other lines are linked.  Pass
in ``known`` also the links of explicit reply/thread targets that are older than the tail,
so replies to them join the right conversation.  Results of incremental runs can differ
marginally from one batch run because a few statistics (idf, who-mentioned-whom) are
computed from the lines supplied.

Modules: ``lines`` (input/output types), ``cues``, ``prepare`` (per-line arrays), ``lexical``,
``features`` (stage 1), ``stage2``, ``slots``, ``decode``, ``model`` (weights), ``linker`` (this
driver), ``train``, ``evaluate`` (the corpus metrics) and ``irc`` (the corpus reader).
"""

from untangle.decode import MIN_PROB
from untangle.errors import UntangleError
from untangle.features import MAX_GAP, WINDOW
from untangle.lines import ChatLine, Link
from untangle.linker import conversations, untangle
from untangle.model import Model, link_probabilities, load_model

__all__ = [
    "MAX_GAP",
    "MIN_PROB",
    "WINDOW",
    "ChatLine",
    "Link",
    "Model",
    "UntangleError",
    "conversations",
    "link_probabilities",
    "load_model",
    "untangle",
]
