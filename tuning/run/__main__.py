"""``python -m tuning.run``: Spectrum Tuning with TRL, then the held-out evaluation of the start and tuned model.

python -m tuning.run                                   # the main job: the embedded SmolLM2-135M, CPU budget
python -m tuning.run --preset v1 --model Qwen/Qwen3-14B-Base --instruct_twin Qwen/Qwen3-14B
accelerate launch --config_file tuning/configs/zero3_offload.yaml -m tuning.run --model ... --preset v1
"""

from tuning.run.cli import main

raise SystemExit(main())
