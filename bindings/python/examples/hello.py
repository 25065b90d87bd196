"""Ask a model one question, streaming the answer:  python hello.py MODEL.gguf "What is a star?" """
import sys

import ember

path = sys.argv[1]
question = sys.argv[2] if len(sys.argv) > 2 else "Say hello in one sentence."

with ember.Model(path) as model, model.chat("You are a helpful assistant.") as chat:
    for piece in chat.stream(question, max_tokens=128):
        print(piece, end="", flush=True)
    print()
