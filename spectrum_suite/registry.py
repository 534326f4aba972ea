"""Every Spectrum Suite task as a spec: the one source of truth for names, splits, sources and availability.

Three families of tasks (`DESIGN.md`): 94 episode tasks (the 93 the reference registers plus the orphan
`habermas_opinions` it evaluates but forgot to register), 8 distributional-alignment tasks and 22
diversity/validity (coverage) tasks. Episode parameters are those of `spec/tasks.md` §10.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from .episodes import EpisodeParams
from .sources.base import RemoteFile, local_path, resolve_data_dir

FAMILIES = ("episodes", "alignment", "coverage")
SIDES = ("train", "test", "capability")
KINDS = ("single_variable", "conditional", "joint", "individual", "group", "capability")
AVAILABILITY = ("ready", "needs download", "needs a manual file")


@dataclass(frozen=True)
class Source:
    """Where a task's data comes from, and under which terms."""

    key: str
    title: str
    origin: str  # SYN, HF, GH, URL, MAN, PERM
    homepage: str
    license: str
    citation: str


@dataclass(frozen=True)
class TaskSpec:
    """One task. ``module`` names its adapter in `spectrum_suite.sources`."""

    name: str
    family: str
    side: str
    source: str
    kind: str
    module: str
    params: EpisodeParams | None = None
    choices: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def source_info(self) -> Source:
        return SOURCES[self.source]

    @property
    def origin(self) -> str:
        return SOURCES[self.source].origin

    @property
    def split_names(self) -> tuple[str, ...]:
        """A training task has train and validation; a held-out or evaluation-only task has test."""
        return ("train", "validation") if self.side == "train" else ("test",)

    def adapter(self) -> ModuleType:
        return importlib.import_module(f"spectrum_suite.sources.{self.module}")

    def files(self) -> list[RemoteFile]:
        return list(self.adapter().files(self))

    def availability(self, data_dir: str | Path | None = None) -> str:
        """ready (synthetic, or every required file is in the data directory), needs download, or manual."""
        if self.origin == "SYN":
            return "ready"
        root = resolve_data_dir(data_dir)
        files = self.files()
        here = {f.path: local_path(f, root) is not None for f in files}
        required = [f for f in files if not f.optional]
        if not required:  # all optional: any one of them will do
            if any(here.values()):
                return "ready"
            return "needs download" if any(not f.manual for f in files) else "needs a manual file"
        if all(here[f.path] for f in required):
            return "ready"
        if any(f.manual and not here[f.path] for f in required):
            return "needs a manual file"
        return "needs download"


# ---------------------------------------------------------------------------------------------------
# Sources


def _src(key: str, title: str, origin: str, homepage: str, license: str, citation: str) -> Source:
    return Source(key, title, origin, homepage, license, citation)


_PAPER = (
    "@article{sorensen2025spectrum, title={Spectrum Tuning: Post-Training for Distributional Coverage and "
    "In-Context Steerability}, author={Sorensen, Taylor and Newman, Benjamin and Moore, Jared and Park, Chan "
    "and Fisher, Jillian and Mireshghallah, Niloofar and Jiang, Liwei and Choi, Yejin}, journal={arXiv "
    "preprint arXiv:2510.06084}, year={2025}}"
)

# fmt: off
SOURCES: dict[str, Source] = {
    s.key: s
    for s in [
        _src("coinflip", "Synthetic coin flips", "SYN", "https://arxiv.org/abs/2510.06084", "Apache-2.0", _PAPER),
        _src("normal", "Synthetic normal draws", "SYN", "https://arxiv.org/abs/2510.06084", "Apache-2.0", _PAPER),
        _src("discrete", "Synthetic discrete distributions", "SYN", "https://arxiv.org/abs/2510.06084", "Apache-2.0", _PAPER),
        _src("flight", "Synthetic flight preferences (arXiv 2503.17523)", "SYN", "https://arxiv.org/abs/2503.17523", "Apache-2.0", _PAPER),
        _src("urn", "Synthetic urns", "SYN", "https://arxiv.org/abs/2510.06084", "Apache-2.0", _PAPER),
        _src("states", "US states, uniform", "SYN", "https://arxiv.org/abs/2510.06084", "Apache-2.0", _PAPER),
        _src("diverse_valid", "Diversity/validity generation tasks", "SYN", "https://arxiv.org/abs/2510.06084", "Apache-2.0", _PAPER),
        _src("polis", "Polis open data", "GH", "https://github.com/compdemocracy/openData", "CC BY 4.0", "Small et al. 2021, Polis: Scaling deliberation by mapping high dimensional opinion spaces"),
        _src("diffuse_distributions", "Diffuse distributions", "GH", "https://github.com/y0mingzhang/diffuse-distributions", "see homepage", "Zhang et al. 2024, Forcing Diffuse Distributions out of Language Models"),
        _src("novacomet", "NovaCOMET (the Hub's Parquet export, refs/convert/parquet)", "HF", "https://huggingface.co/datasets/tsor13/novacomet", "see homepage", "West et al. 2023, NovaCOMET: Open Commonsense Foundation Models with Symbolic Knowledge Distillation"),
        _src("habermas", "Habermas Machine", "URL", "https://github.com/google-deepmind/habermas_machine", "CC BY 4.0", "Tessler et al. 2024, AI can help humans find common ground in democratic deliberation"),
        _src("hatespeech", "Kumar et al. toxicity perspectives", "PERM", "https://data.esrg.stanford.edu/study/toxicity-perspectives", "by permission of the authors", "Kumar et al. 2021, Designing Toxic Content Classification for a Diversity of Perspectives"),
        _src("valueprism", "ValuePrism", "HF", "https://huggingface.co/datasets/allenai/ValuePrism", "AI2 ImpACT license (medium risk)", "Sorensen et al. 2024, Value Kaleidoscope"),
        _src("opinionqa", "OpinionQA (Pew ATP)", "MAN", "https://github.com/tatsu-lab/opinions_qa", "see homepage (Pew terms)", "Santurkar et al. 2023, Whose Opinions Do Language Models Reflect?"),
        _src("wvs", "World Values Survey wave 7", "MAN", "https://www.worldvaluessurvey.org/WVSDocumentationWV7.jsp", "WVS terms of use (registration)", "Haerpfer et al. 2022, World Values Survey Wave 7"),
        _src("generativesocialchoice", "Generative Social Choice survey data", "GH", "https://github.com/generative-social-choice/survey_data", "see homepage", "Fish et al. 2023, Generative Social Choice"),
        _src("popquorn", "POPQUORN", "GH", "https://github.com/Jiaxin-Pei/Potato-Prolific-Dataset", "see homepage", "Pei and Jurgens 2023, When Do Annotator Demographics Matter?"),
        _src("numbergame", "Number game", "MAN", "https://doi.org/10.7910/DVN/A8ZWLF", "CC0 (Harvard Dataverse)", "Bigelow and Piantadosi 2016, Inferring priors in compositional cognitive models"),
        _src("babynames", "US SSA baby names", "URL", "https://www.ssa.gov/oact/babynames/limits.html", "public domain (US government)", "US Social Security Administration, Popular Baby Names"),
        _src("haikus", "haikurnn", "GH", "https://github.com/docmarionum1/haikurnn", "see homepage", "docmarionum1/haikurnn"),
        _src("valueconsistency", "ValueConsistency", "HF", "https://huggingface.co/datasets/jlcmoore/ValueConsistency", "see homepage", "Moore et al. 2024, Are Large Language Models Consistent over Value-laden Questions?"),
        _src("globaloqa", "GlobalOpinionQA", "HF", "https://huggingface.co/datasets/Anthropic/llm_global_opinions", "CC BY-NC-SA 4.0", "Durmus et al. 2023, Towards Measuring the Representation of Subjective Global Opinions"),
        _src("issuebench", "IssueBench", "HF", "https://huggingface.co/datasets/Paul/IssueBench", "CC BY 4.0", "Röttger et al. 2025, IssueBench"),
        _src("chatbotarena", "Chatbot Arena conversations", "HF", "https://huggingface.co/datasets/lmsys/chatbot_arena_conversations", "CC BY 4.0 (user prompts) / see homepage", "Zheng et al. 2023, Judging LLM-as-a-judge with MT-Bench and Chatbot Arena"),
        _src("helpsteer", "HelpSteer2", "HF", "https://huggingface.co/datasets/nvidia/HelpSteer2", "CC BY 4.0", "Wang et al. 2024, HelpSteer2"),
        _src("dices", "DICES", "GH", "https://github.com/google-research-datasets/dices-dataset", "CC BY 4.0", "Aroyo et al. 2023, DICES Dataset"),
        _src("imdb", "IMDB reviews", "HF", "https://huggingface.co/datasets/stanfordnlp/imdb", "see homepage", "Maas et al. 2011, Learning Word Vectors for Sentiment Analysis"),
        _src("changemyview", "r/ChangeMyView threads", "URL", "https://zenodo.org/records/3778298", "see homepage", "Tan et al. 2016, Winning Arguments"),
        _src("bare", "BARE synthetic data", "GH", "https://github.com/pgasawa/BARE", "see homepage", "Zhu et al. 2025, BARE: Combining Base and Instruction-Tuned Language Models"),
        _src("gsm8k", "GSM8K", "HF", "https://huggingface.co/datasets/openai/gsm8k", "MIT", "Cobbe et al. 2021, Training Verifiers to Solve Math Word Problems"),
        _src("ambient", "AmbiEnt", "GH", "https://github.com/alisawuffles/ambient", "CC BY 4.0", "Liu et al. 2023, We're Afraid Language Models Aren't Modeling Ambiguity"),
        _src("titanic", "Titanic passengers (Kaggle's train.csv from GitHub datasciencedojo/datasets; the spec's Hub mstz/titanic is script-based and no longer loads)", "GH", "https://github.com/datasciencedojo/datasets", "CC0", "Kaggle, Titanic - Machine Learning from Disaster"),
        _src("jeopardy", "Jeopardy! questions", "MAN", "https://www.reddit.com/r/datasets/comments/1uyd0t/", "see homepage", "Jeopardy! archive (J! Archive)"),
        _src("prism", "PRISM alignment", "HF", "https://huggingface.co/datasets/HannahRoseKirk/prism-alignment", "CC BY-NC 4.0", "Kirk et al. 2024, The PRISM Alignment Dataset"),
        _src("netflix", "Netflix Prize", "MAN", "https://www.kaggle.com/datasets/netflix-inc/netflix-prize-data", "Netflix Prize terms", "Bennett and Lanning 2007, The Netflix Prize"),
        _src("lewidi", "LeWiDi 2025", "MAN", "https://www.codabench.org/competitions/7192/", "see homepage", "Leonardelli et al. 2025, LeWiDi-2025"),
        _src("community_alignment", "Community Alignment", "HF", "https://huggingface.co/datasets/facebook/community-alignment-dataset", "CC BY 4.0", "Meta FAIR 2025, Community Alignment dataset"),
        _src("collective_alignment", "Collective Alignment", "HF", "https://huggingface.co/datasets/openai/collective-alignment-1", "CC BY 4.0", "OpenAI 2025, Collective alignment"),
        _src("mmlu", "MMLU", "HF", "https://huggingface.co/datasets/cais/mmlu", "MIT", "Hendrycks et al. 2021, Measuring Massive Multitask Language Understanding"),
        _src("gpqa", "GPQA", "GH", "https://github.com/idavidrein/gpqa", "CC BY 4.0", "Rein et al. 2023, GPQA" ),
        _src("hellaswag", "HellaSwag (script-based on the Hub: its Parquet export, refs/convert/parquet)", "HF", "https://huggingface.co/datasets/Rowan/hellaswag", "MIT", "Zellers et al. 2019, HellaSwag"),
        _src("winogrande", "WinoGrande (script-based on the Hub: its Parquet export, refs/convert/parquet)", "HF", "https://huggingface.co/datasets/allenai/winogrande", "CC BY 4.0", "Sakaguchi et al. 2020, WinoGrande"),
        _src("arc", "ARC Challenge", "HF", "https://huggingface.co/datasets/allenai/ai2_arc", "CC BY-SA 4.0", "Clark et al. 2018, Think you have Solved Question Answering?"),
        _src("drop", "DROP (script-based on the Hub: its Parquet export, refs/convert/parquet)", "HF", "https://huggingface.co/datasets/ucinlp/drop", "CC BY-SA 4.0", "Dua et al. 2019, DROP"),
        _src("truthful_qa", "TruthfulQA (multiple choice; script-based on the Hub: its Parquet export, refs/convert/parquet)", "HF", "https://huggingface.co/datasets/EleutherAI/truthful_qa_mc", "Apache-2.0", "Lin et al. 2022, TruthfulQA"),
        _src("chemistry", "BO-ICL chemistry data", "GH", "https://github.com/ur-whitelab/BO-ICL", "MIT", "Ramos et al. 2023, Bayesian Optimization of Catalysts With In-context Learning"),
        _src("nytimes", "NYT book reading likelihood", "GH", "https://github.com/nicolemeister/benchmarking-distributional-alignment", "see homepage", "Meister et al. 2024, Benchmarking Distributional Alignment of Large Language Models"),
        _src("mpi", "MPI personality inventory", "MAN", "https://github.com/jfisher52/AI_Pluralistic_Alignment", "see homepage", "Jiang et al. 2023, Evaluating and Inducing Personality in Pre-trained Language Models"),
        _src("rotten_tomatoes", "Rotten Tomatoes movies 1970-2024", "MAN", "https://www.kaggle.com/datasets/andrezaza/clapper-massive-rotten-tomatoes-movies-and-reviews", "see homepage", "Rotten Tomatoes movie info"),
    ]
}
# fmt: on


# ---------------------------------------------------------------------------------------------------
# Tasks


def _ep(name, side, kind, source, module=None, choices=(), **params) -> TaskSpec:
    return TaskSpec(
        name, "episodes", side, source, kind, module or source, EpisodeParams(**params), tuple(choices)
    )


AGREE7 = (
    "Strongly Agree",
    "Agree",
    "Somewhat Agree",
    "Neutral",
    "Somewhat Disagree",
    "Disagree",
    "Strongly Disagree",
)
_MC4 = ("A", "B", "C", "D")

# fmt: off
_EPISODE_TASKS = [
    _ep("polis_vote", "train", "individual", "polis", choices=("Agree", "Disagree", "Pass"), n_per=1, max_instances=500),
    _ep("polis_comment", "train", "single_variable", "polis", n_per=-1, n_iter="~64"),
    _ep("diffuse_distribution", "train", "single_variable", "diffuse_distributions", seed=43, n_per=1, permutations=10),
    _ep("coinflip", "train", "single_variable", "coinflip", module="synthetic", choices=("Heads", "Tails"), seed=43, n_iter="~128"),
    _ep("normal", "train", "single_variable", "normal", module="synthetic", n_iter="~128", description_prob=0.4),
    _ep("novacomet_hypothesis", "test", "conditional", "novacomet", seed=43, n_per=-1, n_iter="~32"),
    _ep("novacomet_premise", "test", "single_variable", "novacomet", n_per=-1, n_iter="~64"),
    _ep("habermas_question", "test", "single_variable", "habermas", n_per=-1, n_iter="~32"),
    _ep("habermas_individual", "test", "individual", "habermas", n_iter="~32", max_instances=2000),
    _ep("habermas_individual_categorical", "test", "individual", "habermas", choices=AGREE7, seed=43, n_iter="~32", max_instances=2000),
    _ep("habermas_opinions", "test", "conditional", "habermas", n_per=-1, n_iter="~8"),
    _ep("hatespeech_individual", "train", "individual", "hatespeech", choices=("0", "1", "2", "3", "4"), n_iter="~128", max_instances=1000),
    _ep("valueprism_situation", "train", "single_variable", "valueprism", n_per=-1, n_iter="~256"),
    _ep("valueprism_vrd", "train", "conditional", "valueprism", n_per=-1, n_iter="~32", max_total=500),
    _ep("valueprism_vrds_noncontextual", "train", "single_variable", "valueprism", n_per=-1, n_iter="~256"),
    _ep("valueprism_misc", "train", "single_variable", "valueprism", n_iter="~32"),
    _ep("opinionqa_individual", "train", "individual", "opinionqa", seed=43),
    _ep("opinionqa_questions", "train", "single_variable", "opinionqa", seed=43),
    _ep("wvs_individual", "test", "individual", "wvs", seed=43, max_instances=2000),
    _ep("generativesocialchoice_validation", "train", "individual", "generativesocialchoice"),
    _ep("generativesocialchoice_freetext", "train", "individual", "generativesocialchoice"),
    _ep("popquorn_individual", "train", "individual", "popquorn"),
    _ep("popquorn_og_categorical", "train", "single_variable", "popquorn", n_per=20, n_iter="~128"),
    _ep("numbergame_individual", "test", "individual", "numbergame", choices=("Yes", "No")),
    _ep("numbergame_perc", "test", "conditional", "numbergame", n_per=-1, n_iter="~128"),
    _ep("babynames", "train", "single_variable", "babynames", n_iter=5000, max_instances=500),
    _ep("haikus", "train", "individual", "haikus", n_per=-1, n_iter=64),
    _ep("valueconsistency", "train", "conditional", "valueconsistency", n_per=-1, n_iter="~64"),
    _ep("globaloqa", "test", "group", "globaloqa", seed=43, n_per=2),
    _ep("issuebench", "train", "single_variable", "issuebench", n_per=2),
    _ep("chatbotarena_prompts", "test", "individual", "chatbotarena", n_iter=100, max_instances=1000),
    _ep("chatbotarena_individual_prefs", "test", "individual", "chatbotarena", choices=("a", "b", "tie", "bothbad"), n_per=-1, n_iter="~16", max_instances=1000),
    _ep("chatbotarena_assistant", "test", "group", "chatbotarena", n_per=-1, n_iter="~32"),
    _ep("helpsteer", "train", "individual", "helpsteer", choices=("1", "2"), n_iter=40, max_instances=500),
    _ep("dices", "train", "individual", "dices", choices=("Yes", "No", "Unsure"), n_iter=100),
    _ep("cards", "train", "single_variable", "discrete", n_per=100, n_iter=52),
    _ep("multinomial", "train", "single_variable", "discrete", seed=43, max_instances=500),
    _ep("geometric", "train", "single_variable", "discrete", seed=43, max_instances=500),
    _ep("poisson", "train", "single_variable", "discrete", seed=43, max_instances=500),
    _ep("binomial", "train", "single_variable", "discrete", seed=43, max_instances=500),
    _ep("negative_binomial", "train", "single_variable", "discrete", seed=43, max_instances=500),
    _ep("categorical", "train", "single_variable", "discrete", seed=43, max_instances=500),
    _ep("geometric_beta", "train", "single_variable", "discrete", seed=43, max_instances=500),
    _ep("hypergeometric", "train", "single_variable", "discrete", seed=43, max_instances=500),
    _ep("zipfian", "train", "single_variable", "discrete", seed=43, max_instances=500),
    _ep("imdb", "train", "conditional", "imdb", choices=("negative", "positive"), n_per=200, n_iter="~128"),
    _ep("flight", "test", "individual", "flight", choices=("1", "2", "3"), seed=43, n_iter=20, max_instances=200),
    _ep("changemyview_categories", "train", "single_variable", "changemyview", n_per=-1, n_iter="~16"),
    _ep("changemyview_posts", "train", "conditional", "changemyview", seed=43, n_per=-1, n_iter="~16", max_total=500),
    _ep("bare_gsm8k", "train", "conditional", "bare", n_per=-1, n_iter="~32", max_total=500),
    _ep("bare_enron", "train", "conditional", "bare", seed=100, n_per=-1, n_iter="~32", max_total=500),
    _ep("bare_hotpot", "train", "conditional", "bare", seed=200, n_per=-1, n_iter="~32", max_total=500),
    _ep("bare_lcb", "train", "conditional", "bare", seed=300, n_per=-1, n_iter="~32", max_total=500),
    _ep("newsgroups", "train", "conditional", "bare", seed=400, n_per=-1, n_iter="~32", max_total=500),
    _ep("pubmed", "train", "conditional", "bare", seed=500, n_per=-1, n_iter="~32", max_total=500),
    _ep("gsm8k_question", "train", "joint", "gsm8k", n_per=50, n_iter="~64"),
    _ep("gsm8k_answer_from_question", "train", "conditional", "gsm8k", seed=43, n_per=50, n_iter="~64"),
    _ep("gsm8k_question_answer", "train", "joint", "gsm8k", seed=44, n_per=50, n_iter="~64"),
    _ep("gsm8k_question_from_answer", "train", "conditional", "gsm8k", seed=45, n_per=50, n_iter="~64"),
    _ep("ambient_premise_hypothesis", "train", "joint", "ambient", n_per=50, n_iter="~64"),
    _ep("ambient_ambiguity_detection", "train", "conditional", "ambient", seed=43, n_per=50, n_iter="~64"),
    _ep("ambient_disambiguation", "train", "conditional", "ambient", seed=44, n_per=50, n_iter="~64"),
    _ep("ambient_linguist_annotations", "train", "individual", "ambient", seed=45, n_per=2, n_iter="~64"),
    _ep("ambient_interpretation_labels", "train", "conditional", "ambient", choices=("entailment", "neutral", "contradiction"), seed=46, n_per=50, n_iter="~64"),
    _ep("ambient_annotation_distributions", "train", "conditional", "ambient", seed=47, n_per=50, n_iter="~64" ),
    _ep("titanic_all_variables", "train", "joint", "titanic", n_per=-1, n_iter="~64"),
    _ep("titanic_survival_prediction", "train", "conditional", "titanic", seed=43, n_per=-1, n_iter="~64"),
    _ep("jeopardy_question_generation", "train", "joint", "jeopardy", n_per=-1, n_iter="~64", max_total=1000),
    _ep("jeopardy_answer_prediction", "train", "conditional", "jeopardy", seed=43, n_per=-1, n_iter="~64", max_total=1000),
    _ep("prism_prompts", "train", "conditional", "prism", n_per=-1, n_iter="~128"),
    _ep("prism_prompts_individual", "train", "individual", "prism", seed=43, n_per=-1, n_iter="~96"),
    _ep("prism_individual_preferences", "train", "individual", "prism", n_per=-1, n_iter="~20"),
    _ep("netflix_individual_ratings", "train", "individual", "netflix", choices=("1", "2", "3", "4", "5"), n_iter="~64", max_instances=1000),
    _ep("netflix_individual_views", "train", "individual", "netflix", seed=43, n_iter="~64"),
    _ep("lewidi_csc_sarcasm_detection_individual", "train", "individual", "lewidi", choices=("1", "2", "3", "4", "5", "6"), seed=43, n_iter=1000),
    _ep("lewidi_mp_irony_detection_individual", "train", "individual", "lewidi", choices=("0", "1"), seed=43, n_iter=1000),
    _ep("lewidi_par_paraphrase_detection_individual", "train", "individual", "lewidi", seed=43, n_per=-1, n_iter=20),
    _ep("lewidi_par_paraphrase_detection_individual_categorical", "train", "individual", "lewidi", choices=tuple(str(i) for i in range(-5, 6)), seed=43, n_per=-1, n_iter=20),
    _ep("lewidi_varierrnli_nli_detection_individual", "train", "individual", "lewidi", seed=43, n_per=-1, n_iter=30),
    _ep("lewidi_varierrnli_nli_detection_individual_categorical", "train", "individual", "lewidi", seed=43, n_per=-1, n_iter=30),
    _ep("community_alignment_initial_prompt", "train", "group", "community_alignment", n_per=-1, n_iter="~32" ),
    _ep("community_alignment_individual_reply", "train", "individual", "community_alignment", n_per=-1, n_iter="~25"),
    _ep("community_alignment_individual_preferences", "train", "individual", "community_alignment", n_per=-1, n_iter="~25"),
    _ep("community_alignment_response", "train", "group", "community_alignment", n_per=-1, n_iter=5),
    _ep("collective_alignment_individual", "train", "individual", "collective_alignment"),
    _ep("mmlu", "capability", "capability", "mmlu", module="capability", choices=_MC4, n_per=1000, n_iter=20),
    _ep("gpqa", "capability", "capability", "gpqa", choices=_MC4, n_per=1000, n_iter=20),
    _ep("hellaswag", "capability", "capability", "hellaswag", module="capability", choices=_MC4, n_per=-1, n_iter=20),
    _ep("winogrande", "capability", "capability", "winogrande", module="capability", choices=("A", "B"), n_per=-1, n_iter=10),
    _ep("arc", "capability", "capability", "arc", module="capability", n_per=-1, n_iter=10),
    _ep("drop", "capability", "capability", "drop", module="capability", n_per=-1, n_iter=10),
    _ep("truthful_qa", "capability", "capability", "truthful_qa", module="capability", n_per=-1, n_iter=10),
    _ep("chemistry_esol", "test", "conditional", "chemistry", n_per=-1, n_iter=15, permutations=5),
    _ep("chemistry_oxidative", "test", "conditional", "chemistry", n_per=-1, n_iter=10),
]
# fmt: on


def _al(name: str, source: str, output_name: str, module: str | None = None) -> TaskSpec:
    return TaskSpec(
        name, "alignment", "test", source, "conditional", module or source, extra={"output_name": output_name}
    )


_ALIGNMENT_TASKS = [
    _al("urn", "urn", "Response (color)", module="urn_states"),
    _al("numbergame", "numbergame", "Target Number Membership (Yes/No)"),
    _al("global_oqa", "globaloqa", "Response (letter)"),
    _al("habermas", "habermas", "Answer (Likert 1-7)"),
    _al("mpi", "mpi", "Agreement Rating (0-5)"),
    _al("nytimes", "nytimes", "Reading Likelihood (1, 2, 3, 4)"),
    _al("rotten_tomatoes", "rotten_tomatoes", "Movie Rating (Good or Bad)"),
    _al("states", "states", "Response (state)", module="urn_states"),
]

COVERAGE_TASK_NAMES = (
    "car_make_model", "car_brand", "claude_gerunds", "color_normal_ex", "color_interesting_ex", "basic_emails",
    "professional_emails", "element_symbols", "element_names", "us_phone_numbers", "international_phone_numbers",
    "prime_numbers", "small_prime_numbers", "random_seed", "rng_1_10", "rng_1_100", "us_states_full_names",
    "us_states_abbreviations", "us_states_any_format", "weekdays_full", "weekdays_abbreviated", "weekdays_any_format",
)  # fmt: skip

_COVERAGE_TASKS = [
    TaskSpec(name, "coverage", "test", "diverse_valid", "single_variable", "coverage_tasks")
    for name in COVERAGE_TASK_NAMES
]

TASKS: dict[str, TaskSpec] = {t.name: t for t in _EPISODE_TASKS + _ALIGNMENT_TASKS + _COVERAGE_TASKS}

# ---------------------------------------------------------------------------------------------------
# Groups


def _names(**where) -> tuple[str, ...]:
    return tuple(t.name for t in TASKS.values() if all(getattr(t, k) == v for k, v in where.items()))


SYNTHETIC_EPISODE_TASKS = tuple(t.name for t in _EPISODE_TASKS if t.origin == "SYN")

GROUPS: dict[str, tuple[str, ...]] = {
    "numeric_dist": ("normal", "multinomial", "geometric", "poisson", "binomial", "negative_binomial",
                     "categorical", "geometric_beta", "hypergeometric", "zipfian"),
    "synthetic": SYNTHETIC_EPISODE_TASKS,
    "train": _names(family="episodes", side="train"),
    "test": _names(family="episodes", side="test"),
    "capability": _names(family="episodes", side="capability"),
    "alignment": _names(family="alignment"),
    "coverage": _names(family="coverage"),
    "all": _names(family="episodes"),
}  # fmt: skip

GROUP_DESCRIPTIONS = {
    "numeric_dist": "normal and the nine pre-drawn discrete distributions",
    "synthetic": "every episode task generated in code (no download)",
    "train": "the training mix: every training-side episode task",
    "test": "the held-out Spectrum Suite test tasks (steerability)",
    "capability": "the held-out capability benchmarks",
    "alignment": "the distributional-alignment evaluation tasks",
    "coverage": "the diversity/validity evaluation tasks",
    "all": "every episode task, training and held-out",
}

CONFIG_NAMES = tuple(TASKS) + tuple(GROUPS)


class UnknownNameError(KeyError):
    """An unknown task or config name; the message lists the closest matches."""

    def __init__(self, what: str, name: str, known: Iterable[str]) -> None:
        close = difflib.get_close_matches(name, list(known), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        self.message = f"unknown {what} {name!r}{hint} (`python -m spectrum_suite list` shows them all)"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def get_task(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownNameError("task", name, TASKS) from None


def config_tasks(config: str) -> tuple[TaskSpec, ...]:
    """The tasks a config builds: one task, or a group."""
    if config in TASKS:
        return (TASKS[config],)
    if config in GROUPS:
        return tuple(TASKS[n] for n in GROUPS[config])
    raise UnknownNameError("config", config, CONFIG_NAMES)


def config_family(config: str) -> str:
    families = {t.family for t in config_tasks(config)}
    if len(families) != 1:  # pragma: no cover - groups are defined per family
        raise ValueError(f"config {config!r} mixes families {sorted(families)}")
    return families.pop()


def list_tasks(
    family: str | None = None,
    side: str | None = None,
    source: str | None = None,
    kind: str | None = None,
    availability: str | None = None,
    data_dir: str | Path | None = None,
) -> list[TaskSpec]:
    """Every registered task, filtered on any of its attributes (availability as seen from ``data_dir``)."""
    for value, allowed, what in ((family, FAMILIES, "family"), (side, SIDES, "side"), (kind, KINDS, "kind"),
                                 (availability, AVAILABILITY, "availability")):  # fmt: skip
        if value is not None and value not in allowed:
            raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")
    if source is not None and source not in SOURCES:
        raise UnknownNameError("source", source, SOURCES)
    out = []
    for task in TASKS.values():
        if family and task.family != family or side and task.side != side:
            continue
        if source and task.source != source or kind and task.kind != kind:
            continue
        if availability and task.availability(data_dir) != availability:
            continue
        out.append(task)
    return out
