// Prompts on a terminal whose finished line tells the truth (loaded only when one is shown).
// Like inquirer's input and password, except that the done-state is ticked only when the answer
// is accepted (the id typed matches, the password is long enough, the repeat is the same): an
// answer about to be refused is marked with a cross, never with a tick. `echo: false` shows
// nothing of what is typed (passwords).
import { createPrompt, useState, useKeypress, usePrefix, isEnterKey, makeTheme } from '@inquirer/core';

type Status = 'idle' | 'done' | 'refused';

interface CheckedConfig { message: string; accept: (answer: string) => boolean; echo: boolean }

// usePrefix picks theme.prefix[status], so 'refused' gets its own mark
const theme = makeTheme({ prefix: { refused: '\u2718' } });

export const checkedInput = createPrompt<string, CheckedConfig>((config, done) => {
  const [status, setStatus] = useState<Status>('idle');
  const [value, setValue] = useState('');
  const prefix = usePrefix({ status: status as 'idle' | 'done', theme });
  useKeypress((key, rl) => {
    if (status !== 'idle') return;
    if (isEnterKey(key)) {
      setStatus(config.accept(value) ? 'done' : 'refused');
      done(value);
    } else {
      setValue(rl.line);
    }
  });
  const message = theme.style.message(config.message, status === 'idle' ? 'idle' : 'done');
  const shown = !config.echo ? '' : status === 'done' ? theme.style.answer(value) : value;
  return [prefix, message, shown].filter(Boolean).join(' ');
});
