// A Plazo written as the timer expression: the same text engine/deploy/lint/plazo.py writes.
export const UNITS = {
  dias_habiles: ['plazo_habil', 'días hábiles'],
  dias_naturales: ['plazo_natural', 'días naturales'],
  horas: ['plazo_horas', 'horas'],
  meses: ['plazo_meses', 'meses']
};

function countExpression(cantidad) {
  const terms = String(cantidad || '').split('+').map((t) => t.trim());
  if (!terms.every(Boolean)) throw new Error('falta la cantidad');
  return terms.map((t) => {
    if (/^\d+$/.test(t)) return String(parseInt(t, 10));
    if (/^parametros(\.[A-Za-z_]\w*)+$/.test(t)) return 'parametros' + t.split('.').slice(1).map((p) => `["${p}"]`).join('');
    if (/^[A-Za-z_]\w*$/.test(t)) return t;
    throw new Error(`«${t}» no es un número, parámetro ni dato del caso`);
  }).join(' + ');
}

export function expression(p) {
  const unit = UNITS[p.unidad];
  if (!unit) throw new Error('elija la unidad');
  if (!/^[A-Za-z_]\w*$/.test(p.desde || '')) throw new Error('elija la fecha desde la que corre');
  let n = countExpression(p.cantidad);
  if (p.sentido === 'antes') n = `-(${n})`;
  const args = [p.desde, n, JSON.stringify(p.articulo || '')];
  if (p.unidad === 'dias_naturales' && p.mover === 'false') args.push('False');
  const call = `${unit[0]}(${args.join(', ')})`;
  if (!p.repeticiones) return call;
  const times = countExpression(p.repeticiones);
  const step = p.unidad === 'horas' ? `"/PT" + str(${n}) + "H"` : `"/P" + str(${n}) + "D"`;
  return `"R" + str(${times}) + "/" + ${call} + ${step}`;
}
