// A Plazo written as the timer expression: the same text engine/deploy/lint/plazo.py writes.
export const UNITS = {
  dias_habiles: ['plazo_habil', 'días hábiles'],
  dias_naturales: ['plazo_natural', 'días naturales'],
  horas: ['plazo_horas', 'horas'],
  meses: ['plazo_meses', 'meses']
};

// The two month rules of engine/time/months.py; which one governs a term is cited in a parameter.
export const RULES = {
  administrativa: 'administrativa (LFPA art. 29)',
  prescripcion: 'de la prescripción (Código Civil art. 1180)'
};

const IDENT = /^[A-Za-z_]\w*$/;
const PARAM = /^parametros(\.[A-Za-z_]\w*)+$/;

function factor(t) {
  if (/^\d+$/.test(t)) return String(parseInt(t, 10));
  if (PARAM.test(t)) return 'parametros' + t.split('.').slice(1).map((p) => `["${p}"]`).join('');
  if (IDENT.test(t)) return t;
  throw new Error(`«${t}» no es un número, parámetro ni dato del caso`);
}

// Sums of products of numbers, parameters and case fields (e.g. contacto_numero * parametros.x.y).
function countExpression(cantidad) {
  const terms = String(cantidad || '').split('+').map((t) => t.trim());
  if (!terms.every(Boolean)) throw new Error('falta la cantidad');
  return terms.map((t) => {
    const factors = t.split('*').map((f) => f.trim());
    if (!factors.every(Boolean)) throw new Error(`«${t}» no es un producto completo`);
    return factors.map(factor).join(' * ');
  }).join(' + ');
}

function ruleExpression(regla) {
  const r = String(regla || '').trim();
  if (RULES[r]) return JSON.stringify(r);
  if (PARAM.test(r)) return factor(r);
  throw new Error('elija la regla de los meses');
}

export function expression(p) {
  const unit = UNITS[p.unidad];
  if (!unit) throw new Error('elija la unidad');
  if (!IDENT.test(p.desde || '')) throw new Error('elija la fecha desde la que corre');
  let n = countExpression(p.cantidad);
  if (p.sentido === 'antes') n = `-(${n})`;
  const args = [p.desde, n];
  if (p.unidad === 'meses') args.push(ruleExpression(p.regla));
  args.push(JSON.stringify(p.articulo || ''));
  if (p.unidad === 'dias_naturales' && p.mover === 'false') args.push('False');
  const call = `${unit[0]}(${args.join(', ')})`;
  if (!p.repeticiones) return call;
  const times = countExpression(p.repeticiones);
  const step = p.unidad === 'horas' ? `"/PT" + str(${n}) + "H"` : `"/P" + str(${n}) + "D"`;
  return `"R" + str(${times}) + "/" + ${call} + ${step}`;
}
