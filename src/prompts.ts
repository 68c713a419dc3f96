// The "type the id to confirm" prompt on a terminal (loaded only when it is shown). Like
// inquirer's input, except that the finished line is ticked only when the answer matches: a
// mismatch is marked with a cross right before the refusal, never with a tick.
import { createPrompt, useState, useKeypress, usePrefix, isEnterKey, makeTheme } from '@inquirer/core';

type Status = 'idle' | 'done' | 'mismatch';

interface TypeToConfirmConfig { message: string; expected: string }

// usePrefix picks theme.prefix[status], so 'mismatch' gets its own mark
const theme = makeTheme({ prefix: { mismatch: '\u2718' } });

export const typeToConfirm = createPrompt<string, TypeToConfirmConfig>((config, done) => {
  const [status, setStatus] = useState<Status>('idle');
  const [value, setValue] = useState('');
  const prefix = usePrefix({ status: status as 'idle' | 'done', theme });
  useKeypress((key, rl) => {
    if (status !== 'idle') return;
    if (isEnterKey(key)) {
      setStatus(value.trim() === config.expected ? 'done' : 'mismatch');
      done(value);
    } else {
      setValue(rl.line);
    }
  });
  const message = theme.style.message(config.message, status === 'idle' ? 'idle' : 'done');
  const answer = status === 'done' ? theme.style.answer(value) : value;
  return [prefix, message, answer].filter(Boolean).join(' ');
});
