import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';

export interface ToolCheck {
  name: string;
  ok: boolean;
  found?: string;
  fix?: string;
}

/** `java -version` → the major version, or undefined when java is missing. */
export async function javaMajor(env: NodeJS.ProcessEnv): Promise<{ major: number; text: string } | undefined> {
  const result = await execa('java', ['-version'], { reject: false, env, all: true });
  if (result.exitCode !== 0) return undefined;
  const text = (result.all ?? '').split('\n')[0] ?? '';
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  const major = match[1] === '1' ? Number(match[2]) : Number(match[1]);
  return { major, text: text.trim() };
}

export async function checkJava(env: NodeJS.ProcessEnv): Promise<ToolCheck> {
  const java = await javaMajor(env);
  if (!java) return { name: 'java', ok: false, fix: 'install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)' };
  if (java.major < 17) return { name: 'java', ok: false, found: java.text, fix: 'install Java 17 or newer and put it first on PATH' };
  return { name: 'java', ok: true, found: java.text };
}

export async function checkMaven(env: NodeJS.ProcessEnv): Promise<ToolCheck> {
  const result = await execa('mvn', ['-v'], { reject: false, env, all: true });
  if (result.exitCode !== 0) return { name: 'mvn', ok: false, fix: 'install Maven 3.8+ (Debian: apt-get install maven)' };
  return { name: 'mvn', ok: true, found: stripVTControlCharacters((result.all ?? '').split('\n')[0] ?? '').trim() };
}
